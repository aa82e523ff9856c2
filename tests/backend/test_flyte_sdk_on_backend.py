"""Flyte SDK pieces on a real backend: checkpoints across retries, task classes, the context.

The programs are in tests/resources/flyte_sdk/ (registered as one folder); the same
programs run through the local engine in tests/run/test_checkpoints.py,
tests/sdk/test_python_task.py and tests/sdk/test_flyte_context.py, with the same results.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from plait.remote import Remote
from server_fixture import running_server

PROGRAMS = Path(__file__).parent.parent / "resources" / "flyte_sdk"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_server(tmp_path_factory.mktemp("flyte-sdk-home")) as server:
        yield server


@pytest.fixture(scope="module")
def remote(server: Any) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PROGRAMS), version="v1")
        yield client


def run(remote: Remote, workflow: str, inputs: dict[str, Any] | None = None) -> Any:
    done = remote.execute(remote.fetch_workflow(f"flyte_sdk.{workflow}", "v1"), inputs or {}).wait(timeout=120)
    assert done.phase == "SUCCEEDED", done.error
    return done


def test_each_retry_on_the_backend_resumes_from_the_previous_attempts_checkpoint(remote: Remote) -> None:
    done = run(remote, "checkpointed.counting", {"n": 10})
    assert done.outputs == {"o0": "attempt 3 started at 6, had a checkpoint: True"}
    [node] = [n for n in done.nodes() if n.path == "n0"]
    assert len(node.attempts) == 3
    # kept in the object store under the node's prefix, one checkpoint per attempt
    for attempt, step in ((1, b"3"), (2, b"6"), (3, b"10")):
        assert remote.download(f"executions/{done.id}/n0/{attempt}/checkpoint/_dst_cp") == step


def test_a_checkpoint_folder_is_restored_on_the_backend(remote: Remote) -> None:
    done = run(remote, "checkpointed.folders", {"name": "w"})
    assert done.outputs == {"o0": ["w.a=first", "w.b=second"]}


def test_a_task_class_runs_on_the_backend_with_its_config(remote: Remote) -> None:
    done = run(remote, "task_classes.greet_and_measure", {"who": "Ada"})
    assert done.outputs == {"o0": "Hello, Ada!", "o1": 2, "o2": 11}
    shout = remote.execute(remote.fetch_task("shout", "v1"), {"who": "Bo"}).wait(timeout=120)
    assert shout.phase == "SUCCEEDED" and shout.outputs == {"greeting": "HEY, Bo!!!"}


def test_file_access_and_compilation_state_on_the_backend(remote: Remote) -> None:
    done = run(remote, "context_files.report_flow", {"lines": ["a", "b", "c"]})
    assert done.outputs == {"o0": 3}
    assert [n.path for n in sorted(done.nodes(), key=lambda n: n.path)] == ["n0", "n1", "n2", "n3"]


def test_a_pydantic_model_carries_its_files_folder_and_data_set_between_workers(remote: Remote) -> None:
    done = run(remote, "model_files.deliver", {"title": "june", "rows": ["ab", "cde"]})
    assert done.outputs == {"o0": "june: 2 rows | ['a.png', 'b.png'] | ['s0=ab', 's1=cde'] | 5"}


def test_batched_pickled_lists_and_yielded_outputs_on_the_backend(remote: Remote) -> None:
    done = run(remote, "hero_batches.rally", {"names": ["Ada", "Bo"]})
    assert done.outputs == {"o0": ["Go Ada (level 3)!", "Go Bo (level 2)!"]}
    mapped = run(remote, "hero_batches.loud_rally", {"names": ["Ada", "Bo"]})
    assert mapped.outputs == {"o0": ["GO ADA (LEVEL 3)!", "GO BO (LEVEL 2)!"]}


def test_a_batched_list_is_stored_n_items_a_file_and_a_map_task_fans_out_over_it(remote: Remote) -> None:
    done = run(remote, "hero_batches.roll_call", {"names": ["Ada", "Grace", "Linus"]})
    assert done.outputs == {"o0": ["Ada:3", "Grace:5", "Linus:5"]}
    for batch in (0, 1):  # BatchSize(2): three heroes in two files
        assert remote.download(f"executions/{done.id}/n0/1/outputs/o0/batch-{batch}.pkl")


def test_an_attempt_stopped_at_its_timeout_on_the_backend_keeps_what_it_saved(remote: Remote) -> None:
    done = remote.execute(remote.fetch_task("flyte_sdk.checkpointed.resume_after_hang", "v1"),
                          {"label": "job"}).wait(timeout=120)
    assert done.phase == "SUCCEEDED", done.error
    assert done.outputs == {"o0": "job: half done, finished by attempt 2"}

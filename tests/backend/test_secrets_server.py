"""Secrets through a real `plait server`: stored encrypted, given to the tasks that request them
(by `current_context().secrets`, environment variables and files), masked in what they print
and in their errors, refused at launch when missing.

One server for the module (its embedded Dask cluster runs the tasks);
`tests/resources/secrets/secret_tasks.py` is the user's program.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from plait.remote import Remote, RemoteUserError
from server_fixture import ServerProcess, running_server

PROGRAM = Path(__file__).parent.parent / "resources" / "secrets" / "secret_tasks.py"
PASSWORD = "pw-Zq7x!9kL2-wheelbarrow"
API_KEY = "ak-5fe1c0ffee-0123456789"
FORMS = [PASSWORD, API_KEY, base64.b64encode(PASSWORD.encode()).decode()]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("secrets") / "home") as started:
        yield started


@pytest.fixture(scope="module")
def remote(server: ServerProcess) -> Iterator[Remote]:
    with server.remote() as client:
        client.register(str(PROGRAM))
        client.create_secret("db/password", PASSWORD)  # every domain of the project
        client.create_secret("API_KEY", API_KEY, domain="development")
        yield client


def _run(remote: Remote, name: str, inputs: dict[str, Any] | None = None) -> Any:
    run = remote.execute(remote.fetch_task(f"secret_tasks.{name}"), inputs or {})
    return run.wait(timeout=120)


def _answers(server: ServerProcess, execution_id: str) -> str:
    """Everything the API answers about an execution: the record, its nodes, their logs."""
    headers = {"Authorization": f"Bearer {server.token}"}
    base = f"{server.url}/api/v1/executions/{execution_id}"
    texts = [httpx.get(base, headers=headers).text]
    nodes = httpx.get(f"{base}/nodes", headers=headers).json()["nodes"]
    texts.append(json.dumps(nodes))
    for node in nodes:
        texts.append(httpx.get(f"{base}/nodes/{node['path']}/logs", headers=headers).text)
    return "\n".join(texts)


def _files_holding(root: Path, needles: list[str]) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n}" for n in needles if n.encode() in data]
    return found


def test_a_task_reads_the_secrets_it_requests_every_way_and_its_log_shows_them_masked(
    server: ServerProcess, remote: Remote
) -> None:
    run = _run(remote, "reads_secrets")
    assert run.phase == "SUCCEEDED", (run.error, server.log_tail())
    seen = run.outputs["o0"]
    assert seen["same"] == "True"  # context == env_var == _FSEC_ variable
    assert seen["api_key_variable"] == "<unset>"  # mounted as a file only
    assert seen["file_mode"] == "0o600"
    assert seen["api_key_length"] == str(len(API_KEY))
    assert not Path(seen["folder"]).exists()  # the attempt's folder went with it
    log = run.logs("n0")
    assert "the password is ****\n" in log and "base64: ****\n" in log and "the api key is ****\n" in log
    answers = _answers(server, run.id)
    assert "the password is ****" in answers
    assert not [f for f in FORMS if f in answers]


def test_a_task_that_requests_nothing_sees_no_secret(remote: Remote) -> None:
    run = _run(remote, "peeks")
    assert run.phase == "SUCCEEDED", run.error
    assert run.outputs["o0"] == {
        "variables": "",
        "get": "task `secret_tasks.peeks` did not request secret group='db' key='password'; add "
               "plait.Secret(group='db', key='password') to its secret_requests",
    }


def test_an_error_that_holds_a_secret_reaches_the_client_masked(server: ServerProcess, remote: Remote) -> None:
    run = _run(remote, "fails_with_secret")
    assert run.phase == "FAILED"
    assert "the database refused the password '****'" in run.error["message"]
    answers = _answers(server, run.id)
    assert "the database refused the password '****'" in answers
    assert not [f for f in FORMS if f in answers]


def test_a_launch_with_a_missing_secret_is_refused_naming_the_task_and_the_secret(
    server: ServerProcess, remote: Remote
) -> None:
    message = ("task secret_tasks.needs_missing requests secret db/missing, which project default / "
               "domain development does not have; create it with `plait create secret db/missing "
               "--project default --domain development` (or without --domain for every domain of the "
               "project)")
    for name, kind in (("secret_tasks.needs_missing", "task"), ("secret_tasks.wf_missing", "workflow"),
                       ("secret_tasks.wf_missing", "launch_plan")):
        answer = httpx.post(f"{server.url}/api/v1/executions", headers={"Authorization": f"Bearer {server.token}"},
                            json={"kind": kind, "name": name, "inputs": {}})
        assert (answer.status_code, answer.json()["message"]) == (422, message), (kind, answer.text)
    with pytest.raises(RemoteUserError, match="requests secret db/missing, which project default"):
        remote.execute(remote.fetch_workflow("secret_tasks.wf_missing"), {})


def test_a_dynamic_tasks_child_without_its_secret_fails_as_a_user_error(remote: Remote) -> None:
    run = _run(remote, "dyn_missing", {"n": 1})
    assert run.phase == "FAILED"
    failed = [n for n in run.nodes() if n.phase == "FAILED" and n.entity == "secret_tasks.needs_missing"]
    assert failed, [(n.path, n.phase, n.error) for n in run.nodes()]
    assert failed[0].error["kind"] == "USER"
    assert failed[0].error["message"].startswith(
        "task secret_tasks.needs_missing requests secret db/missing, which project default / domain "
        "development does not have; create it with `plait create secret db/missing")


def test_the_items_of_a_map_get_the_secret_and_their_log_masks_it(server: ServerProcess, remote: Remote) -> None:
    run = remote.execute(remote.fetch_workflow("secret_tasks.map_sees"), {"xs": [0, 1, 2]}).wait(timeout=120)
    assert run.phase == "SUCCEEDED", (run.error, server.log_tail())
    assert run.outputs["o0"] == [len(PASSWORD), len(PASSWORD) + 1, len(PASSWORD) + 2]
    logs = [p.read_text() for p in (server.home / "data" / "executions" / run.id).rglob("logs.txt")]
    assert "item 2 logs in with ****" in "".join(logs)


def test_no_file_of_the_server_holds_a_value_in_clear(server: ServerProcess, remote: Remote) -> None:
    assert stat.S_IMODE((server.home / "secrets.key").stat().st_mode) == 0o600  # made at its start
    _run(remote, "reads_secrets")
    _run(remote, "fails_with_secret")
    assert _files_holding(server.home, FORMS) == []  # database, object store, logs, server log
    assert [s["name"] for s in remote.list_secrets()] == ["API_KEY", "db/password"]
    assert not [f for f in FORMS if f in json.dumps(remote.list_secrets())]

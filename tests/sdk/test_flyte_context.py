"""`FlyteContextManager.current_context()` as Flyte programs use it.

The program is tests/resources/flyte_sdk/context_files.py: a task that makes scratch
files through `ctx.file_access`, and a decorator that reads `ctx.compilation_state`
to put a node before the workflow's first node and one after its last.
"""

from __future__ import annotations

import os

import plait
import pytest
from plait import FlyteContextManager


def test_the_flytekit_module_path_names_the_same_context_manager() -> None:
    from plait.core.context_manager import FlyteContext
    from plait.core.context_manager import FlyteContextManager as Manager

    assert Manager is plait.FlyteContextManager
    assert isinstance(Manager.current_context(), FlyteContext)
    from plait.core.checkpointer import SyncCheckpoint
    from plait.core.data_persistence import FileAccessProvider

    assert isinstance(Manager.current_context().file_access, FileAccessProvider)
    assert isinstance(plait.current_context().checkpoint, SyncCheckpoint)


def test_file_access_round_trip_inside_a_task_returns_a_file_that_outlives_the_attempt(resource) -> None:
    prog = resource("flyte_sdk/context_files.py")
    assert prog.count_lines(report=prog.write_report(lines=["a", "b", "c"])) == 3
    report = prog.write_report(lines=["x", "y"])
    assert open(report).read() == "x\ny"  # moved out of the attempt's working directory


def test_user_space_params_is_what_current_context_returns_in_the_task(resource) -> None:
    prog = resource("flyte_sdk/context_files.py")
    assert prog.same_params() is True


def test_a_decorator_orders_its_nodes_around_the_workflow_through_the_compilation_state(resource, capsys) -> None:
    prog = resource("flyte_sdk/context_files.py")
    nodes = prog.report_flow.compile().nodes
    assert [(n.entity.short_name, n.upstream) for n in nodes] == [
        ("open_store", []), ("write_report", ["n0"]), ("count_lines", ["n1"]), ("close_store", ["n2"]),
    ]
    assert prog.report_flow(lines=["one", "two"]) == 2
    out = capsys.readouterr().out
    assert out.index("store opened") < out.index("store closed")


def test_there_is_no_compilation_state_outside_a_workflow_body() -> None:
    assert FlyteContextManager.current_context().compilation_state is None


def test_scratch_paths_outside_a_task_are_fresh_and_copies_keep_folders(tmp_path) -> None:
    fa = FlyteContextManager.current_context().file_access
    one, two = fa.get_random_local_path(), fa.get_random_local_path("data.csv")
    assert one != two and not os.path.exists(one) and os.path.basename(two) == "data.csv"
    folder = fa.get_random_local_directory()
    assert os.path.isdir(folder) and os.listdir(folder) == []
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("A")
    copied = fa.put_data(str(tmp_path / "src"), str(tmp_path / "dst"), is_multipart=True)
    assert open(os.path.join(copied, "a.txt")).read() == "A"
    back = fa.get_data(str(tmp_path / "dst" / "a.txt"), str(tmp_path / "b.txt"))
    assert open(back).read() == "A"


def test_copying_a_folder_without_multipart_says_how(tmp_path) -> None:
    fa = FlyteContextManager.current_context().file_access
    with pytest.raises(plait.UserError, match="pass is_multipart=True"):
        fa.put_data(str(tmp_path), str(tmp_path / "elsewhere"))


def test_with_context_uses_the_given_file_access_inside_the_block(tmp_path) -> None:
    from plait.core.context_manager import FileAccessProvider

    ctx = FlyteContextManager.current_context()
    provider = FileAccessProvider(local_sandbox_dir=tmp_path / "sandbox", raw_output_prefix=str(tmp_path / "raw"))
    with FlyteContextManager.with_context(ctx.with_file_access(provider)) as inner:
        assert FlyteContextManager.current_context() is inner
        assert inner.file_access.get_random_local_path().startswith(str(tmp_path / "sandbox"))
        assert inner.file_access.get_random_remote_directory().startswith(str(tmp_path / "raw"))
    assert FlyteContextManager.current_context() is ctx

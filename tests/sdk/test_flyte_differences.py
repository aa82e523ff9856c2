"""Behaviour Flyte programs rely on: named multi-outputs, failure handlers without `err`,
package-path entity names, prints of a workflow body, and the Echo task.

The programs are in tests/resources/flyte_basics/, a package as Flyte projects are.
"""

from __future__ import annotations

import importlib
import pickle
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from plait import task, workflow
from plait.cli import main
from plait.errors import CompileError, UserError
from plait.remote.bundle import collect

RESOURCES = Path(__file__).parent.parent / "resources"
BASICS = RESOURCES / "flyte_basics"


@pytest.fixture
def basics() -> Iterator[Any]:
    """`basics("outputs")` imports tests/resources/flyte_basics/outputs.py as `flyte_basics.outputs`."""
    sys.path.insert(0, str(RESOURCES))
    try:
        yield lambda name: importlib.import_module(f"flyte_basics.{name}")
    finally:
        sys.path.remove(str(RESOURCES))


def run_cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


# ------------------------------------------------------------------ named multi-outputs

XS, YS = [0.0, 1.0, 2.0], [1.0, 3.0, 5.0]


def test_a_task_with_several_outputs_hands_them_back_by_name_and_as_a_tuple(basics: Any) -> None:
    result = basics("outputs").fit_line(xs=XS, ys=YS)
    assert (result.o0, result.o1) == (2.0, 1.0)
    slope, intercept = result
    assert (slope, intercept) == (2.0, 1.0)
    assert result == (2.0, 1.0)
    assert repr(result) == "DefaultNamedTupleOutput(o0=2.0, o1=1.0)"  # what flytekit prints


def test_a_workflow_with_several_outputs_keeps_their_names(basics: Any) -> None:
    result = basics("outputs").trend(xs=XS, ys=YS)
    assert result.o0 == "y = 2x + 1" and result.o1 == 2.0
    assert result._fields == ("o0", "o1")


def test_a_declared_named_tuple_is_handed_back_as_declared(basics: Any) -> None:
    prog = basics("outputs")
    result = prog.fit_named(xs=XS, ys=YS)
    assert type(result) is prog.LineFit and result.slope == 2.0


def test_named_outputs_pickle_and_come_back_equal(basics: Any) -> None:
    result = basics("outputs").fit_line(xs=XS, ys=YS)
    back = pickle.loads(pickle.dumps(result))
    assert back == result and back.o1 == 1.0 and type(back) is type(result)


# ------------------------------------------------------------------ on_failure without err


def test_a_failure_handler_without_err_runs_with_the_workflow_inputs(
        basics: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = tmp_path / "cleanup.log"
    monkeypatch.setenv("CLEANUP_LOG", str(log))
    prog = basics("cleanup")
    with pytest.raises(RuntimeError, match="cluster gpu-pool ran out of memory"):
        prog.training_run()
    assert log.read_text().splitlines() == ["reserved gpu-pool", "released gpu-pool"]
    assert prog.training_run.to_spec()["on_failure"] == "flyte_basics.cleanup.release_cluster"


def test_a_failure_handler_must_still_take_the_workflow_inputs() -> None:
    @task
    def forget(day: str) -> None:
        pass

    with pytest.raises(CompileError, match=r"must take the workflow's inputs \['region'\] plus `err: "
                                           r"FlyteError` if it reads the error .*it takes \['day'\]"):
        @workflow(on_failure=forget)
        def regional(region: str) -> None:
            pass


# ------------------------------------------------------------------ package-path names


def test_entities_of_a_package_module_are_named_by_their_package_path(basics: Any) -> None:
    prog = basics("pipelines")
    assert prog.sales_report.name == "flyte_basics.pipelines.sales_report"
    assert prog.total.name == "flyte_basics.pipelines.total"


def test_plait_run_names_a_file_of_a_package_by_its_package_path() -> None:
    result = run_cli("run", str(BASICS / "pipelines.py"), "sales_report", "--help")
    assert result.output.splitlines()[0] == "workflow flyte_basics.pipelines.sales_report"
    ran = run_cli("run", str(BASICS / "pipelines.py"), "sales_report", "--amounts", "[1, 2]")
    assert ran.exit_code == 0 and "total sales: 3" in ran.output


def test_plait_run_names_a_file_of_a_plain_folder_by_its_stem(tmp_path: Path) -> None:
    (tmp_path / "loose.py").write_text(
        "from plait import task\n\n@task\ndef hello(name: str) -> str:\n    return 'hi ' + name\n")
    result = run_cli("run", str(tmp_path / "loose.py"), "hello", "--help")
    assert result.output.splitlines()[0] == "task loose.hello"


def test_registration_names_a_package_the_same_way_and_a_plain_file_by_its_stem(tmp_path: Path) -> None:
    names = {s["name"] for s in collect([str(BASICS / "pipelines.py")]).specs}
    assert "flyte_basics.pipelines.sales_report" in names
    (tmp_path / "solo.py").write_text("from plait import task\n\n@task\ndef one() -> int:\n    return 1\n")
    assert [s["name"] for s in collect([str(tmp_path / "solo.py")]).specs] == ["solo.one"]


# ------------------------------------------------------------------ print() in a workflow body


def test_a_workflow_body_prints_at_each_local_run_not_at_import(
        basics: Any, capsys: pytest.CaptureFixture[str]) -> None:
    sys.modules.pop("flyte_basics.chatty", None)
    prog = basics("chatty")
    assert capsys.readouterr().out == ""  # compiled, silently
    assert prog.chatty(n=1) == 4
    assert capsys.readouterr().out == "building chatty\n"
    assert prog.chatty(n=2) == 8
    assert capsys.readouterr().out == "building chatty\n"


def test_plait_run_shows_a_workflow_body_print_once() -> None:
    result = run_cli("run", str(BASICS / "chatty.py"), "chatty", "--n", "3")
    assert result.exit_code == 0
    assert result.output.count("building chatty") == 1 and "12" in result.output


def test_a_workflow_body_that_fails_shows_what_it_printed_with_its_error(
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ZeroDivisionError):
        @workflow
        def broken() -> None:
            print("about to divide")
            1 / 0  # noqa: B018 - the mistake the test shows
    assert capsys.readouterr().out == "about to divide\n"


def test_a_subworkflow_body_prints_when_its_node_runs(capsys: pytest.CaptureFixture[str]) -> None:
    @task
    def one() -> int:
        return 1

    @workflow
    def inner() -> int:
        print("inner body")
        return one()

    @workflow
    def outer() -> int:
        print("outer body")
        return inner()

    assert capsys.readouterr().out == ""
    assert outer() == 1
    assert capsys.readouterr().out == "outer body\ninner body\n"


# ------------------------------------------------------------------ Echo


def test_an_echo_task_is_the_do_nothing_branch_of_a_conditional(basics: Any) -> None:
    prog = basics("echo_branch")
    assert prog.checkout(amount=10.0, member=True) == 9.0
    assert prog.checkout(amount=10.0, member=False) == 10.0


def test_an_echo_task_hands_back_its_inputs_as_outputs_o0_o1() -> None:
    from plait.core.task import Echo

    echo = Echo(name="pair", inputs={"a": int, "b": str})
    assert echo(a=1, b="x") == (1, "x")
    assert echo(a=1, b="x").o1 == "x"
    spec = echo.to_spec()
    assert spec["name"] == "pair" and spec["task_type"] == "echo"
    assert list(spec["interface"]["outputs"]) == ["o0", "o1"]


def test_an_echo_task_needs_a_name() -> None:
    from plait.core.task import Echo

    with pytest.raises(UserError, match=r"Echo needs a name, e.g. Echo\(name=\"pass_through\""):
        Echo(name="", inputs={"a": int})

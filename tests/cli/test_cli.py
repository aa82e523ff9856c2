"""The `plait` command run as a user runs it: a real process, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PIPELINE = str(Path(__file__).parents[1] / "resources" / "cli" / "pipeline.py")


def plait(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plait", *args],
        capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})},
    )


def test_help_documents_every_command() -> None:
    out = plait("--help")
    assert out.returncode == 0
    assert "run" in out.stdout and "local-cache" in out.stdout
    run_help = plait("run", "--help")
    assert run_help.returncode == 0 and "parsed by" in run_help.stdout and "their declared types" in run_help.stdout
    assert "clear" in plait("local-cache", "--help").stdout


def test_inputs_are_parsed_by_their_declared_types() -> None:
    out = plait(
        "run", PIPELINE, "describe_inputs",
        "--n", "3", "--ratio", "0.5", "--flag", "true", "--name", "Ada",
        "--values", "[1, 2, 3]", "--weights", '{"a": 1.5}', "--when", "2024-05-01T10:00:00",
        "--color", "blue", "--point", '{"x": 1, "y": 2.5}', "--wait", "10m",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "n=3 ratio=0.5 flag=True name=Ada sum=6 w=[('a', 1.5)] year=2024 color=blue "
        "point=(1.0,2.5) wait=600"
    )


def test_a_file_input_is_a_path(tmp_path: Path) -> None:
    f = tmp_path / "text.txt"
    f.write_text("hello")
    out = plait("run", PIPELINE, "count_chars", "--path", str(f))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "5"


def test_bad_value_is_one_line_naming_the_input_and_type() -> None:
    out = plait("run", PIPELINE, "slow", "--seconds", "soon")
    assert out.returncode == 2
    assert "input --seconds expects float, got 'soon'" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_and_unknown_inputs_are_named() -> None:
    out = plait("run", PIPELINE, "slow")
    assert out.returncode == 2 and "needs input(s): --seconds (float)" in out.stderr
    out = plait("run", PIPELINE, "slow", "--secs", "1")
    assert out.returncode == 2 and "has no input --secs; its inputs: --seconds" in out.stderr


def test_unknown_entity_lists_what_the_file_defines() -> None:
    out = plait("run", PIPELINE, "nothing_here")
    assert out.returncode == 2
    assert "`nothing_here` is not a task, workflow or launch plan" in out.stderr
    assert "stats" in out.stderr and "slow" in out.stderr


def test_workflow_defaults_and_named_outputs_print() -> None:
    out = plait("run", PIPELINE, "stats")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["o0: 1", "o1: 3"]
    out = plait("run", "--json", PIPELINE, "stats", "--values", "[5, 9, 4]")
    assert json.loads(out.stdout) == {"o0": 4, "o1": 9}


def test_launch_plan_fixed_inputs_cannot_be_overridden() -> None:
    assert plait("run", "--json", PIPELINE, "fixed_lp").stdout.strip() == '{"o0": 7, "o1": 8}'
    out = plait("run", PIPELINE, "fixed_lp", "--values", "[1]")
    assert out.returncode == 2 and "no input --values" in out.stderr


def test_entity_help_lists_inputs_with_types_and_defaults() -> None:
    out = plait("run", PIPELINE, "stats", "--help")
    assert out.returncode == 0
    assert "--values list[int]  (default: [3, 1, 2])" in out.stdout


def test_a_failing_task_exits_1_with_its_error() -> None:
    out = plait("run", PIPELINE, "explode", "--x", "4")
    assert out.returncode == 1
    assert "ValueError" in out.stderr and "cannot handle 4" in out.stderr


def test_progress_is_shown_for_long_runs() -> None:
    out = plait("run", PIPELINE, "slow", "--seconds", "1.2")
    assert out.returncode == 0, out.stderr
    assert "1 running" in out.stderr and "pipeline.slow" in out.stderr  # shown while it slept
    assert out.stdout.strip() == "1.2"


def test_local_cache_clear(tmp_path: Path, plait_home: Path) -> None:
    entry = plait_home / "local-cache" / "ab" / "abc.pkl"
    entry.parent.mkdir(parents=True)
    entry.write_bytes(b"x")
    out = plait("local-cache", "clear")
    assert out.returncode == 0
    assert "removed 1 cached output(s)" in out.stdout
    assert not entry.exists()


@pytest.mark.parametrize("flag", ["--overwrite-cache", "--max-parallelism=2"])
def test_run_options_are_accepted(flag: str) -> None:
    out = plait("run", flag, PIPELINE, "stats")
    assert out.returncode == 0, out.stderr


def test_quick_runs_print_no_progress() -> None:
    out = plait("run", PIPELINE, "slow", "--seconds", "0")
    assert out.returncode == 0
    assert "running" not in out.stderr

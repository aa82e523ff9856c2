"""Shell tasks: bash scripts with typed inputs and file outputs, run for real."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from plait import FlyteDirectory, FlyteFile, TaskMetadata, current_context, kwtypes, task, workflow
from plait.errors import TaskTimeoutError, UserError
from plait.task_types.shell import ExitCodeError, OutputLocation, ShellTask, render

# ----------------------------------------------------------- a three-step pipeline
# Make a notes file and a folder, append to the notes with bash, pack the two
# into a tarball, then unpack it and count the characters of the notes.

NOTES = "plait runs bash too.\nbash was found\n"


@task
def make_notes() -> tuple[FlyteFile, FlyteDirectory]:
    workdir = Path(current_context().working_directory)
    notes = workdir / "notes.txt"
    notes.touch()
    folder = workdir / "bundle"
    folder.mkdir()
    (folder / ".keep").touch()
    return FlyteFile(str(notes)), FlyteDirectory(str(folder))


append_lines = ShellTask(
    name="append_lines",
    debug=True,
    script="""
    set -eu
    echo "plait runs bash too." >> {inputs.notes}
    if grep -q bash {inputs.notes}; then
        echo "bash was found" >> {inputs.notes}
    else
        echo "bash is missing"
    fi
    """,
    inputs=kwtypes(notes=FlyteFile),
    output_locs=[OutputLocation(var="appended", var_type=FlyteFile, location="{inputs.notes}")],
)

pack = ShellTask(
    name="pack",
    script="""
    set -eu
    cp {inputs.notes} {inputs.folder}
    tar -czf {outputs.archive} -C "$(dirname {inputs.folder})" "$(basename {inputs.folder})"
    """,
    inputs=kwtypes(notes=FlyteFile, folder=FlyteDirectory),
    output_locs=[OutputLocation(var="archive", var_type=FlyteFile, location="{inputs.folder}.tar.gz")],
)

count_chars = ShellTask(
    name="count_chars",
    script="""
    set -eu
    tar -xzf {inputs.archive}
    wc -m < "$(basename {inputs.folder})/$(basename {inputs.notes})" | tr -d ' ' > {outputs.count}
    """,
    inputs=kwtypes(notes=FlyteFile, folder=FlyteDirectory, archive=FlyteFile),
    output_locs=[OutputLocation(var="count", var_type=FlyteFile, location="count.txt")],
)


@workflow
def notes_pipeline() -> FlyteFile:
    notes, folder = make_notes()
    appended = append_lines(notes=notes)
    archive = pack(notes=appended, folder=folder)
    return count_chars(notes=notes, folder=folder, archive=archive)


def test_pipeline_appends_packs_and_counts(capsys: pytest.CaptureFixture[str]) -> None:
    count = notes_pipeline()

    assert isinstance(count, FlyteFile)
    assert Path(count).read_text().strip() == str(len(NOTES))
    # the relative output left the attempt's working directory before it was removed
    assert "plait-task-" not in count.path
    out = capsys.readouterr().out
    assert "shell task `append_lines` runs in" in out  # debug=True echoes the script...
    assert 'grep -q bash /' in out  # ...as rendered, with the real path


def test_a_task_called_outside_a_workflow_returns_its_file(tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("")

    appended = append_lines(notes=FlyteFile(str(notes)))

    assert appended == str(notes)
    assert notes.read_text() == NOTES


def test_output_streams_through_to_the_callers_stdout_and_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    talk = ShellTask(name="talk", script="echo to-stdout; echo to-stderr >&2")

    assert talk() is None
    captured = capsys.readouterr()
    assert captured.out == "to-stdout\n"
    assert captured.err == "to-stderr\n"


# ---------------------------------------------------------------------- failures


def test_a_failing_script_names_the_task_the_exit_code_and_the_end_of_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    boom = ShellTask(
        name="boom",
        script="""
        for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25; do
            echo "progress line $i" >&2
        done
        echo "tar: archive.tgz: Cannot open: No such file or directory" >&2
        exit 3
        """,
    )

    with pytest.raises(ExitCodeError, match=r"shell task `boom` failed: its script exited with code 3") as info:
        boom()

    message = str(info.value)
    assert "tar: archive.tgz: Cannot open" in message
    assert "progress line 25" in message
    assert "progress line 1\n" not in message  # only the last lines
    assert info.value.exit_code == 3
    assert isinstance(info.value, UserError)
    assert "progress line 1\n" in capsys.readouterr().err  # everything reached the caller's stderr


def test_set_e_is_the_scripts_choice() -> None:
    lenient = ShellTask(name="lenient", script="false\necho carried on")
    strict = ShellTask(name="strict", script="set -e\nfalse\necho not reached")

    lenient()
    with pytest.raises(ExitCodeError, match=r"`strict` failed: its script exited with code 1; it wrote nothing to stderr\.\nRun it with debug=True"):
        strict()


def test_a_missing_command_shows_bash_s_complaint_under_the_task_name() -> None:
    typo = ShellTask(name="typo", script="set -e\nnot-a-command-xyz --help")

    with pytest.raises(ExitCodeError, match=r"code 127.*\n.*typo: line 2: not-a-command-xyz: command not found"):
        typo()


def test_a_script_that_leaves_no_output_file_says_where_it_was_expected() -> None:
    lazy = ShellTask(
        name="lazy",
        script="echo nothing written",
        output_locs=[OutputLocation(var="report", var_type=FlyteFile, location="report.txt")],
    )

    with pytest.raises(UserError, match=r"`lazy`: the script succeeded but left no file for output `report` at .*report.txt"):
        lazy()


def test_retries_run_a_failed_script_again(tmp_path: Path) -> None:
    counter = tmp_path / "tries"
    flaky = ShellTask(
        name="flaky",
        script="""
        n=$(cat {inputs.counter} 2>/dev/null || echo 0)
        echo $((n + 1)) > {inputs.counter}
        if [ "$n" -lt 1 ]; then echo "first try fails" >&2; exit 1; fi
        echo done > {outputs.result}
        """,
        inputs=kwtypes(counter=str),
        output_locs=[OutputLocation(var="result", var_type=FlyteFile, location="result.txt")],
        retries=1,
    )

    result = flaky(counter=str(counter))

    assert Path(result).read_text() == "done\n"
    assert counter.read_text() == "2\n"


def test_a_timeout_stops_the_script_and_what_it_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    sleepy = ShellTask(
        name="sleepy",
        script="sleep 60 &\necho $! > {inputs.pidfile}\nwait",
        inputs=kwtypes(pidfile=str),
        timeout=1,
    )

    started = time.monotonic()
    with pytest.raises(TaskTimeoutError, match=r"`sleepy` ran past its timeout of 1s"):
        sleepy(pidfile=str(pidfile))

    assert time.monotonic() - started < 10
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the background `sleep` outlived its task"


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has ended; only its parent has not reaped it


# ------------------------------------------------------------ templates, settings


def test_a_template_with_an_unknown_input_fails_when_the_task_is_defined() -> None:
    with pytest.raises(UserError, match=r"ShellTask `t`: the script refers to `\{inputs\.y\}`, but the task has no input `y`; its inputs are \['x'\]"):
        ShellTask(name="t", script="cat {inputs.x} {inputs.y}", inputs=kwtypes(x=FlyteFile))


def test_a_template_with_an_unknown_output_fails_when_the_task_is_defined() -> None:
    with pytest.raises(UserError, match=r"refers to `\{outputs\.out\}`, but no OutputLocation has var `out`"):
        ShellTask(name="t", script="date > {outputs.out}")


def test_an_output_location_may_use_inputs_only() -> None:
    with pytest.raises(UserError, match=r"the location of output `b` refers to `\{outputs\.a\}`; an output location may refer to inputs only"):
        ShellTask(
            name="t",
            script="true",
            output_locs=[
                OutputLocation("a", FlyteFile, "a.txt"),
                OutputLocation("b", FlyteFile, "{outputs.a}.bak"),
            ],
        )


def test_outputs_are_files_or_directories() -> None:
    with pytest.raises(UserError, match=r"output `n` has var_type `int`.*use FlyteFile or FlyteDirectory"):
        ShellTask(name="t", script="true", output_locs=[OutputLocation("n", int, "n.txt")])


def test_script_and_script_file_exclude_each_other(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"pass either script=\.\.\. or script_file=\.\.\., not both"):
        ShellTask(name="t", script="true", script_file=str(tmp_path / "x.sh"))
    with pytest.raises(UserError, match=r"script_file 'missing\.sh' was not found"):
        ShellTask(name="t", script_file="missing.sh")


def test_a_script_file_is_read_again_at_run_time(tmp_path: Path) -> None:
    script = tmp_path / "write.sh"
    script.write_text("echo first > {outputs.o}\n")
    from_file = ShellTask(
        name="from_file",
        script_file=str(script),
        output_locs=[OutputLocation("o", FlyteFile, "o.txt")],
    )
    script.write_text("echo second > {outputs.o}\n")

    assert Path(from_file()).read_text() == "second\n"


def test_braces_follow_str_format_and_bash_braces_pass_through() -> None:
    text = "echo {{literal}} ${HOME} {a,b} {inputs.n:03d} {outputs.o}"
    rendered = render(text, {"inputs": {"n": 7}, "outputs": {"o": "/tmp/o"}})
    assert rendered == "echo {literal} ${HOME} {a,b} 007 /tmp/o"


def test_environment_and_directory_outputs(tmp_path: Path) -> None:
    split = ShellTask(
        name="split",
        script="""
        mkdir -p {outputs.parts}
        for word in $WORDS; do echo "$word" > {outputs.parts}/$word.txt; done
        """,
        output_locs=[OutputLocation("parts", FlyteDirectory, "parts")],
        environment={"WORDS": "alpha beta"},
    )

    parts = split()

    assert isinstance(parts, FlyteDirectory)
    assert sorted(os.path.basename(p) for p in parts.listdir()) == ["alpha.txt", "beta.txt"]


def test_cache_from_task_metadata_skips_the_second_run(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    cached = ShellTask(
        name="cached",
        script="echo run >> {inputs.log}\necho {inputs.word} > {outputs.o}",
        inputs=kwtypes(log=str, word=str),
        output_locs=[OutputLocation("o", FlyteFile, "o.txt")],
        metadata=TaskMetadata(cache=True, cache_version="1"),
    )

    first = cached(log=str(runs), word="hi")
    second = cached(log=str(runs), word="hi")

    assert Path(first).read_text() == Path(second).read_text() == "hi\n"
    assert runs.read_text() == "run\n"
    assert cached.to_spec()["settings"]["cache"]["version"] == "1"


def test_settings_come_from_metadata_or_arguments_not_both() -> None:
    with pytest.raises(UserError, match=r"\['retries'\] given both as argument\(s\) and through metadata"):
        ShellTask(name="t", script="true", metadata=TaskMetadata(retries=1), retries=2)
    with pytest.raises(UserError, match=r"unknown parameter\(s\) \['colour'\]"):
        ShellTask(name="t", script="true", colour="red")


def test_spec_carries_the_script_and_its_version_follows_it() -> None:
    a = ShellTask(name="spec_me", script="echo {inputs.x}", inputs=kwtypes(x=int))
    b = ShellTask(name="spec_me", script="echo {inputs.x}!", inputs=kwtypes(x=int))

    spec = a.to_spec()
    assert spec["task_type"] == "shell"
    assert spec["name"] == "spec_me"
    assert spec["shell"]["script"] == "echo {inputs.x}"
    assert spec["shell"]["shell"] == "/bin/bash"
    assert spec["interface"]["inputs"]["x"]["type"] == {"kind": "integer"}
    assert spec["version"] != b.to_spec()["version"]


def test_a_failure_survives_the_trip_from_a_worker_process() -> None:
    import pickle

    boom = ShellTask(name="boom_pickled", script="echo broken >&2; exit 5")
    with pytest.raises(ExitCodeError) as info:
        boom()

    copy = pickle.loads(pickle.dumps(info.value))
    assert str(copy) == str(info.value)
    assert (copy.task, copy.exit_code, copy.stderr_tail) == ("boom_pickled", 5, "broken")

"""ContainerTask: interface, spec, the Flyte raw-container I/O protocol, and local runs.

This machine has a docker client but no engine, so the real-runtime tests
check the error a user sees. The full run path is exercised with a stand-in
`docker` on PATH that runs the command on the host, its container paths
mapped onto the mounted folders.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from plait import FlyteDirectory, FlyteFile, Resources, TaskMetadata, kwtypes, workflow
from plait.errors import UserError
from plait.task_types import container as ct
from plait.task_types.container import ContainerRuntimeError, ContainerTask
from plait.task_types.shell import ExitCodeError


def ellipse_area(**overrides: object) -> ContainerTask:
    params: dict = dict(
        name="ellipse_area_sh",
        image="alpine:3.20",
        input_data_dir="/var/inputs",
        output_data_dir="/var/outputs",
        inputs=kwtypes(a=float, b=float),
        outputs=kwtypes(area=float, metadata=str),
        command=[
            "sh",
            "-c",
            "awk 'BEGIN {print 3.141592653589793 * {{.inputs.a}} * {{.inputs.b}}}' > /var/outputs/area"
            " && echo 'computed with awk' > /var/outputs/metadata",
        ],
        metadata=TaskMetadata(cache=True, cache_version="1.0"),
    )
    params.update(overrides)
    return ContainerTask(**params)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def fresh_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test looks for a container runtime afresh."""
    monkeypatch.setattr(ct, "_probe", None)


# --------------------------------------------------------------- interface, spec


def test_interface_and_spec() -> None:
    spec = ellipse_area().to_spec()

    assert spec["task_type"] == "raw-container"
    assert spec["name"] == "ellipse_area_sh"
    assert spec["interface"]["inputs"] == {
        "a": {"type": {"kind": "float"}, "required": True},
        "b": {"type": {"kind": "float"}, "required": True},
    }
    assert spec["interface"]["outputs"] == {"area": {"kind": "float"}, "metadata": {"kind": "string"}}
    assert spec["container"]["image"] == "alpine:3.20"
    assert spec["container"]["input_data_dir"] == "/var/inputs"
    assert spec["container"]["output_data_dir"] == "/var/outputs"
    assert spec["container"]["metadata_format"] == "JSON"
    assert spec["settings"]["container_image"] == "alpine:3.20"
    json.dumps(spec)  # plain JSON


def test_cache_settings_come_from_task_metadata() -> None:
    settings = ellipse_area(metadata=TaskMetadata(cache=True, cache_version="1.0", retries=2, timeout="5m")).to_spec()["settings"]

    assert settings["cache"]["version"] == "1.0"
    assert settings["retries"] == 2
    assert settings["timeout"] == 300.0
    assert ellipse_area(metadata=None).to_spec()["settings"]["cache"] is None


def test_resources_and_environment_are_task_settings() -> None:
    settings = ellipse_area(
        requests=Resources(cpu="1", mem="1Gi"), limits=Resources(cpu="2", mem="2Gi"), environment={"MODE": "fast"}
    ).to_spec()["settings"]

    assert settings["requests"] == {"cpu": "1", "mem": "1Gi"}
    assert settings["limits"] == {"cpu": "2", "mem": "2Gi"}
    assert settings["environment"] == {"MODE": "fast"}


def test_the_version_follows_the_command() -> None:
    a = ellipse_area()
    b = ellipse_area(command=["sh", "-c", "echo {{.inputs.a}} > /var/outputs/area"])
    assert a.to_spec()["version"] == ellipse_area().to_spec()["version"]
    assert a.to_spec()["version"] != b.to_spec()["version"]


def test_an_unknown_input_in_the_command_fails_when_the_task_is_defined() -> None:
    with pytest.raises(UserError, match=r"ContainerTask `ellipse_area_sh`: the command refers to `\{\{\.inputs\.c\}\}`, but the task has no input `c`; its inputs are \['a', 'b'\]"):
        ellipse_area(command=["echo", "{{.inputs.c}}"])


def test_outputs_need_an_output_data_dir() -> None:
    with pytest.raises(UserError, match=r"declares outputs \['area', 'metadata'\] but no output_data_dir; set output_data_dir=\"/var/outputs\""):
        ellipse_area(output_data_dir=None)


def test_file_inputs_need_an_input_data_dir() -> None:
    with pytest.raises(UserError, match=r"file input\(s\) \['f'\] reach the container through input_data_dir"):
        ContainerTask(name="t", image="alpine", command=["cat"], inputs=kwtypes(f=FlyteFile))


def test_data_dirs_are_absolute_paths_in_the_container() -> None:
    with pytest.raises(UserError, match=r"input_data_dir is a path inside the container and must be absolute, got 'inputs'"):
        ellipse_area(input_data_dir="inputs")


def test_command_is_a_list_of_strings() -> None:
    with pytest.raises(UserError, match=r"command expects a list of strings"):
        ellipse_area(command="echo hi")


# --------------------------------------------------------------------- templates


def test_render_replaces_input_templates_as_flyte_reads_them() -> None:
    args = ["calc", "{{.inputs.a}}", "{{ .Inputs.b }}", "x={{$inputs.a}}", "{{.outputPrefix}}"]

    assert ct.input_refs(args) == ["a", "b", "a"]
    assert ct.render_args(args, {"a": "1.5", "b": "2"}) == ["calc", "1.5", "2", "x=1.5", "{{.outputPrefix}}"]


def test_command_values_spell_each_type_for_the_container() -> None:
    types = {"flag": bool, "when": dt.datetime, "xs": list[int], "f": FlyteFile, "n": int}
    values = ct.command_values(
        types,
        {"flag": True, "when": dt.datetime(2024, 5, 1, 12, 0), "xs": [1, 2], "f": FlyteFile("/host/data.csv"), "n": 3},
        "/var/inputs",
    )

    assert values == {
        "flag": "true",
        "when": "2024-05-01T12:00:00",
        "xs": "[1, 2]",
        "f": "/var/inputs/f",
        "n": "3",
    }


# ---------------------------------------------------------------- input files


def test_write_inputs_lays_out_one_file_per_input_and_a_listing(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "part-0").write_text("p0")
    host = tmp_path / "inputs"
    types = {"a": float, "name": str, "ok": bool, "f": FlyteFile, "d": FlyteDirectory}

    ct.write_inputs(
        str(host),
        types,
        {"a": 2.5, "name": "Ada", "ok": False, "f": FlyteFile(str(data)), "d": FlyteDirectory(str(folder))},
        "/var/inputs",
    )

    assert (host / "a").read_text() == "2.5"
    assert (host / "name").read_text() == "Ada"
    assert (host / "ok").read_text() == "false"
    assert (host / "f").read_text() == "x,y\n1,2\n"
    assert (host / "d" / "part-0").read_text() == "p0"
    assert json.loads((host / "inputs.json").read_text()) == {
        "a": 2.5,
        "name": "Ada",
        "ok": False,
        "f": {"path": "/var/inputs/f", "format": ""},
        "d": {"path": "/var/inputs/d", "format": ""},
    }
    (host / "f").write_text("changed in the container")
    assert data.read_text() == "x,y\n1,2\n"  # the caller's file is a copy away


# --------------------------------------------------------------- output files


@pytest.mark.parametrize(
    ("tp", "text", "value"),
    [
        (str, "Hello, my name is Ada.\n", "Hello, my name is Ada."),
        (str, "  two lines\nkept\n\n", "  two lines\nkept\n"),
        (int, " 42\n", 42),
        (float, "12.566370614359172\n", 12.566370614359172),
        (bool, "True\n", True),
        (bool, "false", False),
        (bool, "0", False),
        (dt.datetime, "2024-05-01T12:00:00+00:00\n", dt.datetime(2024, 5, 1, 12, tzinfo=dt.timezone.utc)),
        (dt.timedelta, "1:30:00", dt.timedelta(hours=1, minutes=30)),
        (dt.timedelta, "90s", dt.timedelta(seconds=90)),
        (list[int], "[1, 2, 3]\n", [1, 2, 3]),
        (dict[str, float], '{"a": 1.5}', {"a": 1.5}),
        (int | None, "7", 7),
    ],
)
def test_parse_output_reads_the_declared_type(tp: object, text: str, value: object) -> None:
    assert ct.parse_output(tp, text) == value


@pytest.mark.parametrize(("tp", "text"), [(int, "4.5"), (float, "abc"), (bool, "maybe"), (list[int], "[1, 'x']")])
def test_parse_output_rejects_text_of_another_type(tp: object, text: str) -> None:
    with pytest.raises(ValueError):
        ct.parse_output(tp, text)


def test_read_outputs_names_what_is_missing_or_malformed(tmp_path: Path) -> None:
    (tmp_path / "area").write_text("not a number\n")

    with pytest.raises(UserError, match=r"container task `t`: output `area` is declared `float`, but /var/outputs/area holds 'not a number\\n'"):
        ct.read_outputs("t", str(tmp_path), {"area": float}, "/var/outputs")
    with pytest.raises(UserError, match=r"declares output `label: str`, but the container left nothing at /var/outputs/label; write it there \(e\.g\. `echo <value> > /var/outputs/label`\)"):
        ct.read_outputs("t", str(tmp_path), {"label": str}, "/var/outputs")


def test_read_outputs_files_directories_and_optional(tmp_path: Path) -> None:
    (tmp_path / "report").write_text("ok")
    (tmp_path / "plots").mkdir()

    out = ct.read_outputs(
        "t", str(tmp_path), {"report": FlyteFile, "plots": FlyteDirectory, "note": str | None}, "/var/outputs"
    )

    assert isinstance(out["report"], FlyteFile) and Path(out["report"]).read_text() == "ok"
    assert isinstance(out["plots"], FlyteDirectory)
    assert out["note"] is None
    with pytest.raises(UserError, match=r"output `plots: FlyteFile` expects a file at /var/outputs/plots, but the container left a directory there"):
        ct.read_outputs("t", str(tmp_path), {"plots": FlyteFile}, "/var/outputs")


# ------------------------------------------------------------ the run command


def test_run_argv_replaces_the_entrypoint_like_a_pod() -> None:
    argv = ct.run_argv(
        "docker", "/usr/bin/docker", "alpine:3.20", ["sh", "-c", "echo hi"], ["extra"],
        container_name="plait-t-1", mounts=[("/tmp/in", "/var/inputs")], env={"MODE": "fast"},
        cpus=2.0, memory_bytes=2 * 1024**3, gpus=1,
    )

    assert argv == [
        "/usr/bin/docker", "run", "--rm", "--name", "plait-t-1",
        "--volume", "/tmp/in:/var/inputs",
        "--env", "MODE=fast",
        "--cpus", "2", "--memory", str(2 * 1024**3), "--gpus", "1",
        "--entrypoint", "sh", "alpine:3.20", "-c", "echo hi", "extra",
    ]


def test_run_argv_without_a_command_keeps_the_image_entrypoint() -> None:
    argv = ct.run_argv("podman", "podman", "img", [], ["--flag"], container_name="c", gpus=1)
    assert argv == ["podman", "run", "--rm", "--name", "c", "--device", "nvidia.com/gpu=all", "img", "--flag"]


# ---------------------------------------------------- without a container runtime


def _fake_runtime(bin_dir: Path, name: str, body: str) -> None:
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / name
    exe.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    exe.chmod(0o755)


def test_no_runtime_on_path_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither docker nor podman here

    with pytest.raises(ContainerRuntimeError, match=r"container task `ellipse_area_sh` cannot run here: no container runtime: neither docker nor podman is on PATH\. To run it locally, install Docker or podman"):
        ellipse_area()(a=1.0, b=2.0)


def test_a_docker_client_without_a_daemon_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_runtime(tmp_path, "docker", """
        import sys
        sys.stderr.write("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\\n")
        sys.exit(1)
    """)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(ContainerRuntimeError, match=r"no container runtime: `docker` is installed but its daemon is not reachable \(`docker info`: Cannot connect to the Docker daemon .*\)\. To run it locally, start the Docker daemon"):
        ellipse_area()(a=1.0, b=2.0)


def test_a_runtime_that_hangs_is_reported_not_waited_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _fake_runtime(tmp_path, "podman", "import time\ntime.sleep(30)\n")
    monkeypatch.setenv("PATH", str(tmp_path))

    probe = ct.probe_runtime(timeout=0.3)

    assert probe.executable is None
    assert probe.problem == "`podman` is installed but `podman info` did not answer within 0.3s"


def _real_runtime_missing() -> bool:
    docker = shutil.which("docker")
    if docker is None or shutil.which("podman"):
        return False
    done = subprocess.run([docker, "info"], capture_output=True, timeout=10, check=False)
    return done.returncode != 0


@pytest.mark.skipif(not _real_runtime_missing(), reason="needs a docker client whose daemon is not running (as on the CI machine)")
def test_running_here_fails_with_the_runtime_message() -> None:
    with pytest.raises(ContainerRuntimeError, match=r"container task `ellipse_area_sh` cannot run here: no container runtime: `docker` is installed but its daemon is not reachable"):
        ellipse_area()(a=3.0, b=4.0)


# ------------------------------------------------- runs, with a stand-in runtime

# Runs `docker run`'s command on the host, container paths swapped for the
# mounted host folders; logs every call as a JSON line.
FAKE_DOCKER = """
import json, os, subprocess, sys
args = sys.argv[1:]
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(args) + "\\n")
if args[0] in ("info", "rm"):
    sys.exit(0)
assert args[0] == "run", args
i, mounts, env, entry = 1, [], {}, None
while args[i].startswith("--"):
    if args[i] == "--rm":
        i += 1
        continue
    flag, value = args[i], args[i + 1]
    i += 2
    if flag == "--volume":
        host, inside = value.split(":", 1)
        mounts.append((inside, host))
    elif flag == "--env":
        key, val = value.split("=", 1)
        env[key] = val
    elif flag == "--entrypoint":
        entry = value
argv = ([entry] if entry else []) + args[i + 1:]
for inside, host in mounts:
    argv = [a.replace(inside, host) for a in argv]
sys.exit(subprocess.call(argv, env={**os.environ, **env}))
"""


@pytest.fixture
def fake_docker(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    _fake_runtime(bin_dir, "docker", FAKE_DOCKER)
    log = tmp_path / "docker.log"
    monkeypatch.setenv("FAKE_DOCKER_LOG", str(log))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return log


def _calls(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def test_a_container_task_runs_and_its_outputs_are_read(fake_docker: Path) -> None:
    area, metadata = ellipse_area()(a=3.0, b=4.0)

    assert area == pytest.approx(37.699111843)
    assert metadata == "computed with awk"
    run = next(c for c in _calls(fake_docker) if c[0] == "run")
    assert "--entrypoint" in run and "alpine:3.20" in run
    assert any(a.endswith(":/var/inputs") for a in run) and any(a.endswith(":/var/outputs") for a in run)
    assert "awk 'BEGIN {print 3.141592653589793 * 3.0 * 4.0}'" in run[-1]


def test_two_container_tasks_in_a_workflow_share_the_cache(fake_docker: Path) -> None:
    first = ellipse_area(name="ellipse_first")
    second = ellipse_area(name="ellipse_second", command=["sh", "-c", "echo 1.0 > /var/outputs/area; echo second > /var/outputs/metadata"])

    @workflow
    def both(a: float, b: float) -> tuple[float, str, float, str]:
        area1, meta1 = first(a=a, b=b)
        area2, meta2 = second(a=a, b=b)
        return area1, meta1, area2, meta2

    assert both(a=1.0, b=1.0) == (pytest.approx(3.14159265), "computed with awk", 1.0, "second")
    runs = sum(c[0] == "run" for c in _calls(fake_docker))
    assert both(a=1.0, b=1.0)[3] == "second"
    assert sum(c[0] == "run" for c in _calls(fake_docker)) == runs  # TaskMetadata(cache=True)


def test_files_go_in_and_come_out(fake_docker: Path, tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("one two three\n")
    count = ContainerTask(
        name="count_words",
        image="busybox",
        input_data_dir="/var/inputs",
        output_data_dir="/var/outputs",
        inputs=kwtypes(text=FlyteFile, upper=bool),
        outputs=kwtypes(n=int, copy=FlyteFile),
        command=[
            "sh", "-c",
            "wc -w < {{.inputs.text}} > /var/outputs/n; "
            "[ {{.inputs.upper}} = true ] && tr a-z A-Z < /var/inputs/text > /var/outputs/copy",
        ],
        environment={"LANG": "C"},
    )

    n, copy = count(text=FlyteFile(str(words)), upper=True)

    assert n == 3
    assert Path(copy).read_text() == "ONE TWO THREE\n"
    assert "plait-task-" not in copy.path  # kept after the attempt's folder went away
    run = next(c for c in _calls(fake_docker) if c[0] == "run")
    assert run[run.index("--env") + 1] == "LANG=C"


def test_a_failing_container_names_the_task_the_code_and_stderr(fake_docker: Path) -> None:
    broken = ContainerTask(
        name="broken",
        image="alpine:3.20",
        command=["sh", "-c", "echo 'reading config' >&2; echo 'config.yaml: no such file' >&2; exit 4"],
    )

    with pytest.raises(ExitCodeError, match=r"container task `broken` failed: its container \(alpine:3\.20\) exited with code 4\. Last lines of stderr:\n    reading config\n    config\.yaml: no such file"):
        broken()


def test_a_missing_output_file_is_explained(fake_docker: Path) -> None:
    silent = ellipse_area(command=["sh", "-c", "echo 1.0 > /var/outputs/area"])

    with pytest.raises(UserError, match=r"declares output `metadata: str`, but the container left nothing at /var/outputs/metadata"):
        silent(a=1.0, b=1.0)


def test_local_logs_stream_the_containers_output(fake_docker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    greet = ContainerTask(
        name="echo_and_return_greeting",
        image="alpine:latest",
        input_data_dir="/var/inputs",
        output_data_dir="/var/outputs",
        inputs=kwtypes(name=str),
        outputs=kwtypes(greeting=str),
        command=["/bin/sh", "-c", "echo 'Hello, my name is {{.inputs.name}}.' | tee -a /var/outputs/greeting"],
        local_logs=True,
    )
    quiet = ContainerTask(
        name="quiet", image="alpine", command=["sh", "-c", "echo hidden"], local_logs=False
    )

    assert greet(name="Ada") == "Hello, my name is Ada."
    quiet()
    out = capsys.readouterr().out
    assert "Hello, my name is Ada." in out
    assert "hidden" not in out


def test_a_timeout_removes_the_container(fake_docker: Path) -> None:
    from plait.errors import TaskTimeoutError

    stuck = ContainerTask(name="stuck", image="alpine", command=["sleep", "30"], timeout=1)

    with pytest.raises(TaskTimeoutError, match=r"`stuck` ran past its timeout of 1s"):
        stuck()

    run = next(c for c in _calls(fake_docker) if c[0] == "run")
    name = run[run.index("--name") + 1]
    assert name.startswith("plait-stuck-")
    # the attempt's thread cleans up after the engine has raised: wait for it
    deadline = time.monotonic() + 10
    while ["rm", "--force", name] not in _calls(fake_docker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ["rm", "--force", name] in _calls(fake_docker)  # the client's death alone would leave it running

"""`%plait launch | executions | logs | outputs` from a real kernel against a real `plait server`.

The server runs in its own process with a temporary PLAIT_HOME (SQLite, its
object store, an embedded Dask cluster whose workers are processes of their
own); the kernel finds it through that PLAIT_HOME, as a user's kernel does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kernels import NOTEBOOKS, Kernel, Reply, execute_notebook, kernel_manager

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from server_fixture import ServerProcess, running_server  # noqa: E402

pytestmark = pytest.mark.slow

SHOUT = """%%task
def shout(word: str) -> str:
    import os
    print(f"shouting {word} from pid {os.getpid()}")
    print("second line")
    return word.upper()
"""
WORKER_PID = """%%task
def worker_pid() -> int:
    import os
    return os.getpid()
"""
GREET = """%%workflow
def greet(word: str) -> tuple[str, int]:
    return shout(word=word), worker_pid()
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("remote-magics-home")) as started:
        yield started


@pytest.fixture(scope="module")
def remote_kernel(kernel_dirs: list[str], server: ServerProcess,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kernel]:
    """A kernel whose PLAIT_HOME is the server's, started in an empty folder."""
    km = kernel_manager(kernel_dirs)
    env = {k: v for k, v in os.environ.items() if k not in ("PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    km.start_kernel(env={**env, "PLAIT_HOME": str(server.home)},
                    cwd=str(tmp_path_factory.mktemp("remote-kernel-cwd")))
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    k = Kernel(client)
    k.ok("%load_ext plait")
    yield k
    client.stop_channels()
    km.shutdown_kernel(now=True)


def execution_id(reply: Reply) -> str:
    """The id from the header a launch displays (`execution ID of NAME on URL`)."""
    for text in reply.displays("text/plain"):
        found = re.match(r"execution (\w+) of ", str(text))
        if found:
            return found.group(1)
    raise AssertionError(f"no execution header in {reply.outputs}")


def phases(reply: Reply) -> dict[str, str]:
    """Node phases in the progress widget's final state."""
    found: dict[str, str] = {}
    for state in reply.widget_states().values():
        for path, phase in re.findall(r'data-path="([^"]*)" data-phase="(\w+)"', str(state.get("value", ""))):
            found[path] = phase
    return found


@pytest.fixture(scope="module")
def launched(remote_kernel: Kernel) -> tuple[Reply, str]:
    """`greet`, defined in cells, launched with --wait."""
    remote_kernel.ok(SHOUT)
    remote_kernel.ok(WORKER_PID)
    remote_kernel.ok(GREET)
    reply = remote_kernel.run("%plait launch greet --word hello --wait --out result", timeout=90)
    assert reply.status == "ok", reply.error or reply.stderr
    return reply, execution_id(reply)


def test_a_workflow_defined_in_cells_runs_remotely_and_streams_its_logs(
        remote_kernel: Kernel, launched: tuple[Reply, str]) -> None:
    reply, _ = launched
    lines = reply.stdout.splitlines()
    shouted = [ln for ln in lines if ln.startswith("[n0 shout] shouting hello from pid ")]
    assert len(shouted) == 1, reply.stdout
    assert "[n0 shout] second line" in lines
    assert phases(reply) == {"n0": "SUCCEEDED", "n1": "SUCCEEDED"}
    (header,) = [h for h in reply.displays("text/html") if "plait-execution" in h]
    assert f'data-plait-execution="{launched[1]}"' in header
    # the outputs are the cell's value and are bound to --out, as with `%plait run`
    # several outputs keep their names, as flytekit shows them
    assert reply.value() is not None and reply.value().startswith("DefaultNamedTupleOutput(o0='HELLO', o1=")
    assert remote_kernel.ok("result[0]").value() == "'HELLO'"


def test_logs_stream_while_the_node_runs(remote_kernel: Kernel) -> None:
    remote_kernel.ok('%%task\ndef ticks(n: int) -> int:\n    import time\n    for i in range(n):\n'
                     '        print("tick", i, flush=True)\n        time.sleep(0.6)\n'
                     '    print("no newline at the end", end="")\n    return n\n')
    reply = remote_kernel.run("%plait launch ticks --n 3 --wait", timeout=90)
    assert reply.status == "ok", reply.error
    sent = {}  # when each log line reached the frontend
    for msg in reply.messages:
        if msg["msg_type"] == "stream":
            for line in msg["content"]["text"].splitlines():
                sent[line] = msg["header"]["date"]
    assert list(sent) == ["[n0 ticks] --- pool default ---", "[n0 ticks] tick 0", "[n0 ticks] tick 1",
                          "[n0 ticks] tick 2", "[n0 ticks] no newline at the end"]
    assert (sent["[n0 ticks] tick 2"] - sent["[n0 ticks] tick 0"]).total_seconds() > 0.6
    assert reply.value() == "3"


def test_a_retry_streams_the_log_of_each_attempt(remote_kernel: Kernel, tmp_path: Path) -> None:
    remote_kernel.ok(
        "%%task --retries 1\ndef flaky(marker: str) -> int:\n    import os, plait\n"
        "    if not os.path.exists(marker):\n        open(marker, 'w').close()\n"
        "        print('first try')\n        raise plait.FlyteRecoverableException('once more')\n"
        "    print('second try')\n    return 2\n"
    )
    reply = remote_kernel.run(f"%plait launch flaky --marker {tmp_path / 'tried'} --wait", timeout=90)
    assert reply.status == "ok", reply.error
    lines = [ln for ln in reply.stdout.splitlines() if not ln.startswith("[n0 flaky]  ")]  # less the traceback
    first, second = lines.index("[n0 flaky] first try"), lines.index("[n0 flaky] second try")
    assert first < lines.index("[n0 flaky] --- attempt 2 ---") == second - 1
    assert "attempt 2" in "".join(s.get("value", "") for s in reply.widget_states().values())


def test_tasks_defined_in_cells_ran_on_dask_workers(remote_kernel: Kernel, launched: tuple[Reply, str]) -> None:
    reply, exec_id = launched
    kernel_pid = int(remote_kernel.ok("import os; os.getpid()").value())
    worker_pid = int(remote_kernel.ok("result[1]").value())
    printed = int(re.search(r"shouting hello from pid (\d+)", reply.stdout).group(1))
    assert kernel_pid not in (worker_pid, printed)
    workers = json.loads(remote_kernel.ok(
        "import json\nfrom plait.notebook.remote_magics import client\n"
        f"print(json.dumps([a['worker'] for n in client().fetch_execution({exec_id!r}).nodes() "
        "for a in n.attempts]))"
    ).stdout)
    assert len(workers) == 2 and all(w.startswith("tls://") for w in workers)  # the embedded cluster speaks TLS


def test_tasks_defined_in_cells_travel_with_their_source(remote_kernel: Kernel, launched: tuple[Reply, str]) -> None:
    sources = remote_kernel.ok(
        "import cloudpickle\nfrom plait.remote.bundle import collect\n"
        "sorted(cloudpickle.loads(b).function.__plait_source__.splitlines()[0] "
        "for b in collect([greet]).functions.values())"
    ).value()
    assert sources == "['def shout(word: str) -> str:', 'def worker_pid() -> int:']"


def test_executions_logs_and_outputs(remote_kernel: Kernel, launched: tuple[Reply, str]) -> None:
    _, exec_id = launched
    listed = remote_kernel.ok("%plait executions greet")
    (table,) = listed.displays("text/plain")
    assert re.search(rf"^{exec_id}\s+__main__\.greet\s+SUCCEEDED\s", table, re.M), table
    assert f"<code>{exec_id}</code>" in listed.displays("text/html")[0]
    log = remote_kernel.ok(f"%plait logs {exec_id} n0").stdout
    assert log.startswith("shouting hello from pid ") and log.endswith("second line\n")
    every = remote_kernel.ok(f"%plait logs {exec_id}").stdout
    assert "--- n0 shout (SUCCEEDED, pool default) ---\nshouting hello" in every
    assert "--- n1 worker_pid (SUCCEEDED, pool default) ---" in every
    outputs = remote_kernel.ok(f"out = %plait outputs {exec_id}\nsorted(out), out['o0']")
    assert outputs.value() == "(['o0', 'o1'], 'HELLO')"


def test_a_launch_without_wait_returns_at_once_and_binds_the_outputs_later(remote_kernel: Kernel) -> None:
    reply = remote_kernel.ok("run = %plait launch shout --word later --out later_result\nrun.id")
    assert reply.value() == repr(execution_id(reply))
    assert remote_kernel.ok("run.wait(timeout=60).phase").value() == "'SUCCEEDED'"
    deadline = time.monotonic() + 20
    while remote_kernel.ok("'later_result' in dir()").value() != "True":
        assert time.monotonic() < deadline, "the watch never bound --out"
        time.sleep(0.2)
    assert remote_kernel.ok("later_result").value() == "'LATER'"


def test_a_failed_run_is_one_line_naming_the_node_and_its_log(remote_kernel: Kernel) -> None:
    remote_kernel.ok('%%task\ndef fail(n: int) -> int:\n    print("about to fail")\n    raise ValueError(f"bad n {n}")\n')
    reply = remote_kernel.run("%plait launch fail --n 3 --wait", timeout=90)
    assert reply.status == "error" and reply.error["ename"] == "ExecutionFailed"
    assert re.fullmatch(r"execution \w+ FAILED: ValueError: bad n 3 \(node n0\); `%plait logs \w+ n0` shows its log",
                        reply.error["evalue"]), reply.error["evalue"]
    assert len(reply.error["traceback"]) <= 2
    assert "[n0 fail] about to fail" in reply.stdout  # the log, traceback included, streamed first
    assert "[n0 fail] ValueError: bad n 3" in reply.stdout


def test_a_python_version_mismatch_is_refused_before_the_run(remote_kernel: Kernel) -> None:
    remote_kernel.ok("%%task\ndef never(x: int) -> int:\n    return x\n")
    before = remote_kernel.ok("%plait executions").displays("text/plain")[0]
    remote_kernel.ok("import plait.remote.bundle\n_real = plait.remote.bundle.python_version\n"
                     "plait.remote.bundle.python_version = lambda: '3.2'")
    try:
        reply = remote_kernel.run("%plait launch never --x 1 --wait")
    finally:
        remote_kernel.ok("plait.remote.bundle.python_version = _real")
    assert reply.status == "error" and reply.error["ename"] == "RemoteUserError"
    worker = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert reply.error["evalue"] == (
        f"%plait launch never: this code was registered from Python 3.2, but the backend's workers "
        f"run Python {worker}; register from a Python {worker} environment, or run workers with Python 3.2"
    )
    assert len(reply.error["traceback"]) <= 2 and "\n" not in reply.error["evalue"]
    assert remote_kernel.ok("%plait executions").displays("text/plain")[0] == before


def test_bad_launch_lines_say_what_to_write(remote_kernel: Kernel) -> None:
    reply = remote_kernel.run("%plait launch")
    assert "--wait" in reply.stdout  # the help
    reply = remote_kernel.run("%plait launch --bogus shout")
    assert reply.error["ename"] == "CellError" and "unknown option --bogus" in reply.error["evalue"]
    reply = remote_kernel.run("%plait launch shout --wrd x")
    assert "has no input --wrd; its inputs: --word" in reply.error["evalue"]
    reply = remote_kernel.run("%plait logs")
    assert reply.error["evalue"] == "usage: %plait logs EXEC [NODE] [--attempt N]"
    reply = remote_kernel.run("%plait outputs nosuchexecution")
    assert reply.error["ename"] == "RemoteUserError" and "nosuchexecution" in reply.error["evalue"]


# ------------------------------------------------------------------ the notebook and the CLI


def test_the_remote_launch_notebook_runs_headless(server: ServerProcess, kernel_dirs: list[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAIT_HOME", str(server.home))
    nb = execute_notebook(NOTEBOOKS / "remote_launch.ipynb", kernel_dirs, timeout=90)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert [o for o in outputs if o.get("output_type") == "error"] == []
    streamed = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
    assert "[n0 normalize] scaling 4 values" in streamed


def plait_cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    return subprocess.run([sys.executable, "-m", "plait", *args], capture_output=True, text=True,
                          timeout=60, env={**env, "PLAIT_HOME": str(home)})


def notebook(path: Path, *cells: str) -> Path:
    path.write_text(json.dumps({"cells": [
        {"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None}
        for c in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_plait_register_accepts_a_notebook_and_ships_its_helpers(server: ServerProcess, tmp_path: Path) -> None:
    (tmp_path / "helpers.py").write_text("def double(x: int) -> int:\n    return 2 * x\n")
    path = notebook(
        tmp_path / "my analysis.ipynb",
        "%load_ext plait\nfrom helpers import double",
        "%%task\ndef twice(x: int) -> int:\n    return double(x)",
        "%%workflow\ndef quadruple(x: int) -> int:\n    return twice(x=twice(x=x))",
        "quadruple(x=1)",
    )
    out = plait_cli("register", str(path), home=server.home)
    assert out.returncode == 0, out.stderr
    assert "my_analysis.quadruple" in out.stdout and "my_analysis.twice" in out.stdout
    with server.remote() as remote:
        run = remote.execute(remote.fetch_workflow("my_analysis.quadruple"), {"x": 3}, wait=True, timeout=60)
        assert run.phase == "SUCCEEDED", run.error
        assert run.outputs == {"o0": 12}
    empty = plait_cli("register", str(notebook(tmp_path / "empty.ipynb", "x = 1")), home=server.home)
    said = " ".join(empty.stderr.split())  # rich wraps long lines
    assert empty.returncode == 1 and "empty.ipynb has no %%task, %%dynamic or %%workflow cells to register" in said


def test_a_notebook_launched_from_its_kernel_and_registered_gives_one_name(
        server: ServerProcess, kernel_dirs: list[str], tmp_path: Path) -> None:
    path = notebook(tmp_path / "training.ipynb", "%load_ext plait",
                    "%%task\ndef scale(x: int) -> int:\n    return 3 * x",
                    "%%workflow\ndef train(x: int) -> int:\n    return scale(x=x)")
    km = kernel_manager(kernel_dirs)
    env = {k: v for k, v in os.environ.items() if k not in ("PLAIT_ENDPOINT", "PLAIT_TOKEN")}
    # what a Jupyter server tells the kernel it starts for a notebook
    km.start_kernel(env={**env, "PLAIT_HOME": str(server.home), "JPY_SESSION_NAME": str(path)}, cwd=str(tmp_path))
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        k = Kernel(client)
        for cell in json.loads(path.read_text())["cells"]:
            k.ok(cell["source"])
        launched = k.run("%plait launch train --x 2 --wait", timeout=90)
        assert launched.status == "ok" and launched.value() == "6", launched.error or launched.stderr
        assert re.match(r"execution \w+ of training\.train on ", launched.displays("text/plain")[0])
    finally:
        client.stop_channels()
        km.shutdown_kernel(now=True)
    out = plait_cli("register", str(path), home=server.home)
    assert out.returncode == 0, out.stderr
    assert "training.train" in out.stdout and "training.scale" in out.stdout
    with server.remote() as remote:
        versions = remote.list_versions("workflow", "training.train")
        assert len(versions) == 2  # one from the kernel's launch, one from `plait register`
        assert not remote.list_executions(name="__main__.train")


def test_rerun_remote_reuses_the_nodes_before_the_chosen_one(remote_kernel: Kernel,
                                                              launched: tuple[Reply, str]) -> None:
    _, original = launched
    reply = remote_kernel.run(f"%plait rerun --remote {original} --from n1 --wait --out again", timeout=90)
    assert reply.status == "ok", reply.error or reply.stderr
    again = execution_id(reply)
    assert again != original
    assert f"execution {again} SUCCEEDED (1 node(s) reused from {original})" in reply.stdout
    assert remote_kernel.ok("again['o0']").value() == "'HELLO'"
    refused = remote_kernel.run(f"%plait rerun --remote {original} --from n9")
    assert refused.status == "error" and "has no node `n9`; its nodes: n0, n1" in str(refused.error)

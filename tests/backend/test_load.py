"""Under a burst of launches the backend keeps answering and keeps finishing.

A real `plait server` (SQLite, the embedded Dask cluster) with a small queue
limit and few executions driven at once, so a short burst shows what a long
one does (benchmarks/load.py runs 20 clients for a minute): executions make
progress in creation order while more arrive, a launch past the queue limit
is a 429 with Retry-After, and everything admitted ends. Then the server's
main process is killed with SIGKILL: its API processes go with it and the
port can be used again.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from plait.model.home import ensure_private, read_endpoint
from server_fixture import ServerProcess, running_server

pytestmark = pytest.mark.slow

PROGRAM = Path(__file__).parents[1] / "resources" / "tasks" / "trivial.py"
TASK = "trivial.echo"
MAX_QUEUED = 40
MAX_ACTIVE = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    env = {"PLAIT_MAX_QUEUED": str(MAX_QUEUED), "PLAIT_MAX_ACTIVE_RUNS": str(MAX_ACTIVE)}
    with running_server(tmp_path_factory.mktemp("load-home"), env=env) as started:
        with started.remote() as remote:
            remote.register(str(PROGRAM))
        yield started


def _http(server: ServerProcess) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60)


def _launch(http: httpx.Client, x: int) -> httpx.Response:
    return http.post("/api/v1/executions", json={"kind": "task", "name": TASK, "inputs": {"x": x}})


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _wait_all_ended(http: httpx.Client, ids: list[str], timeout: float) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while True:
        records = [http.get(f"/api/v1/executions/{i}").json() for i in ids]
        if all(r["ended_at"] for r in records) or time.monotonic() > deadline:
            return records
        time.sleep(0.5)


def test_executions_progress_in_creation_order_while_more_arrive(server: ServerProcess) -> None:
    with _http(server) as http:
        ids = []
        for i in range(MAX_QUEUED):
            answer = _launch(http, i)
            assert answer.status_code == 201, answer.text
            ids.append(answer.json()["id"])
        records = _wait_all_ended(http, ids, timeout=120)
    assert [r["phase"] for r in records] == ["SUCCEEDED"] * len(ids)
    first, last = records[:10], records[-10:]
    # Before, every execution was started before any could end: the first ones
    # waited for the whole backlog.
    assert max(_when(r["ended_at"]) for r in first) < min(_when(r["started_at"]) for r in last)


def test_a_burst_gets_429s_and_everything_admitted_ends_within_seconds(server: ServerProcess) -> None:
    accepted: list[str] = []
    refused: list[httpx.Response] = []
    lock = threading.Lock()
    stop = time.monotonic() + 6.0

    def client(n: int) -> None:
        with _http(server) as http:
            while time.monotonic() < stop:
                answer = _launch(http, n)
                with lock:
                    if answer.status_code == 429:
                        refused.append(answer)
                    else:
                        assert answer.status_code == 201, answer.text
                        accepted.append(answer.json()["id"])
                if answer.status_code == 429:
                    time.sleep(float(answer.headers["Retry-After"]))
                n += 1

    threads = [threading.Thread(target=client, args=(i * 1000,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert refused, "the burst never reached the queue limit"
    assert all(r.headers["Retry-After"] == "1" and r.json()["error"] == "busy" for r in refused)
    with _http(server) as http:
        records = _wait_all_ended(http, accepted, timeout=60)
        waiting = [http.get("/api/v1/executions", params={"phase": p, "limit": 1}).json()["items"]
                   for p in ("QUEUED", "RUNNING")]
    assert [r["phase"] for r in records] == ["SUCCEEDED"] * len(accepted)
    assert waiting == [[], []]
    latencies = sorted((_when(r["ended_at"]) - _when(r["created_at"])).total_seconds() for r in records)
    p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) >= 100 else latencies[-1]
    assert p99 <= 10.0, f"p99 creation to end {p99:.1f} s over {len(latencies)} executions"


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_after_a_kill_9_of_the_server_its_api_processes_exit_and_the_port_is_free(tmp_path: Path) -> None:
    home = tmp_path / "home"
    ensure_private(home)
    env = {**os.environ, "PLAIT_HOME": str(home)}
    command = [sys.executable, "-m", "plait", "server", "--port", "0"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
    second = None
    try:
        deadline = time.monotonic() + 90
        while (endpoint := read_endpoint(home)) is None:
            assert time.monotonic() < deadline and first.poll() is None, "the server did not start"
            time.sleep(0.2)
        port = int(endpoint.url.rsplit(":", 1)[1])
        api_workers = [p for p in psutil.Process(first.pid).children()
                       if "spawn_main" in " ".join(p.cmdline())]
        assert api_workers
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        gone, alive = psutil.wait_procs(api_workers, timeout=15)
        assert not alive, f"API processes outlived the server: {[p.pid for p in alive]}"
        assert _free(port)
        second = subprocess.Popen([*command[:-1], str(port)], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        token = (home / "token").read_text().strip()
        deadline = time.monotonic() + 90
        while True:
            assert second.poll() is None, "a server could not start on the freed port"
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health",
                                   headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline
                time.sleep(0.3)
        assert health["status"] == "ok"
    finally:
        for proc in (first, second):
            if proc is not None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in (first, second):
            if proc is not None:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)

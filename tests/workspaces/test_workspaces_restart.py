"""Workspaces across server restarts: found again after `kill -9`, back again after a clean stop.

Real processes (tests/backend/processes.py): a Dask scheduler and `plait server`,
killed with `kill -9` while a workspace runs. code-server runs in its own
session, so it outlives the server; the next server adopts it. A server that
stops cleanly saves and stops its workspaces; the next one starts them again.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
from processes import Processes, Server  # noqa: E402

pytestmark = [pytest.mark.timeout(240)]


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Processes]:
    with Processes(tmp_path / "procs") as started:
        yield started
    for proc in code_servers(tmp_path):  # a failed test must not leave one behind
        with contextlib.suppress(psutil.Error):
            proc.kill()


def code_servers(root: Path) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if "code-server" in cmdline and "--user-data-dir" in cmdline and str(root) in cmdline:
            found.append(proc)
    return found


def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=30)


def wait_phase(api: httpx.Client, name: str, phase: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = api.get(f"/api/v1/workspaces/{name}").json()
        if found["phase"] == phase:
            return found  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{name} is {found['phase']} ({found['reason']}), not {phase}"
        time.sleep(0.1)


def test_a_workspace_outlives_kill_9_and_comes_back_after_a_clean_stop(procs: Processes, tmp_path: Path) -> None:
    address = procs.scheduler()
    home = tmp_path / "home"
    first = procs.server(home, address)
    with client(first) as api:
        assert api.post("/api/v1/workspaces", json={"spec": {"name": "survivor", "ttl_seconds": 600}}).status_code == 201
        wait_phase(api, "survivor", "ACTIVE")
    [code_server] = code_servers(tmp_path)
    folder = home / "workspaces" / "1" / "home" / "workspace"
    (folder / "draft.py").write_text("print('draft')\n")
    first.process.kill()  # the server's process group; code-server has its own session
    time.sleep(0.5)
    assert code_server.is_running()

    second = procs.server(home, address, name="server-2")
    with client(second) as api:
        found = wait_phase(api, "survivor", "ACTIVE")
        assert found["started_at"]
        [again] = code_servers(tmp_path)
        assert again.pid == code_server.pid  # adopted, not restarted
        assert api.get("/workspaces/default/development/survivor/healthz").status_code == 200
        log = api.get("/api/v1/workspaces/survivor/log").json()["lines"]
        assert any("found again after a server restart" in line for line in log)
    second.process.stop(grace=30)  # a clean stop saves and stops it, and keeps the wish
    assert not code_servers(tmp_path)
    assert not folder.exists()

    third = procs.server(home, address, name="server-3")
    with client(third) as api:
        back = wait_phase(api, "survivor", "ACTIVE")
        assert back["desired"] == "ACTIVE"
        assert (folder / "draft.py").read_text() == "print('draft')\n"
        assert api.post("/api/v1/workspaces/survivor/stop").status_code == 200
        stopped = wait_phase(api, "survivor", "STOPPED")
        assert stopped["reason"] == "stopped by request"
    assert not code_servers(tmp_path)


def test_a_workspace_whose_code_server_died_with_the_server_is_marked_and_started_again(
        procs: Processes, tmp_path: Path) -> None:
    address = procs.scheduler()
    home = tmp_path / "home"
    first = procs.server(home, address)
    with client(first) as api:
        api.post("/api/v1/workspaces", json={"spec": {"name": "fragile", "ttl_seconds": 600}})
        wait_phase(api, "fragile", "ACTIVE")
    first.process.kill()
    for proc in code_servers(tmp_path):
        proc.kill()  # as if the machine rebooted
    second = procs.server(home, address, name="server-2")
    with client(second) as api:
        back = wait_phase(api, "fragile", "ACTIVE")
        assert back["desired"] == "ACTIVE"
        log = api.get("/api/v1/workspaces/fragile/log").json()["lines"]
        assert any("marked STOPPED: the server restarted" in line for line in log)
        api.post("/api/v1/workspaces/fragile/stop")
        wait_phase(api, "fragile", "STOPPED")

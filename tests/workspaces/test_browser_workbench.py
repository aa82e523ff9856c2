"""A workspace in a real browser: the VS Code workbench loads through the backend's proxy, and a
file made in its terminal survives a stop and a start.

One `plait server` with a real code-server, and headless Chromium opening the workspace's
session link as a user's browser would. Screenshots go to $PLAIT_SCREENSHOTS.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
from browser import Shots, launch  # noqa: E402
from server_fixture import ServerProcess, running_server  # noqa: E402

pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("workbench") / "home") as srv:
        yield srv


def wait_phase(api: httpx.Client, name: str, phase: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        found = api.get(f"/api/v1/workspaces/{name}").json()
        if found["phase"] == phase:
            return found  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, f"{name} is {found['phase']} ({found['reason']}), not {phase}"
        time.sleep(0.1)


def test_the_workbench_loads_and_a_file_made_in_its_terminal_survives_a_restart(
        server: ServerProcess, request: pytest.FixtureRequest) -> None:
    api = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}, timeout=60)
    assert api.post("/api/v1/workspaces", json={"spec": {"name": "editor", "ttl_seconds": 600}}).status_code == 201
    wait_phase(api, "editor", "ACTIVE")
    folder = server.home / "workspaces" / "1" / "home" / "workspace"
    for browser in launch():
        context = browser.new_context(viewport={"width": 1400, "height": 860})
        page = context.new_page()
        shots = Shots(page, request.node.name)
        link = api.post("/api/v1/workspaces/editor/session").json()["url"]
        page.goto(server.url + link)
        page.wait_for_selector(".monaco-workbench", timeout=90_000)
        page.get_by_text("WORKSPACE", exact=False).first.wait_for(timeout=60_000)  # the explorer, over its socket
        assert "/workspaces/default/development/editor/" in page.url and "ticket" not in page.url
        shots("workbench")
        page.keyboard.press("Control+Backquote")  # View > Terminal
        page.wait_for_selector(".xterm-helper-textarea", timeout=60_000)
        made = folder / "made-in-terminal.txt"
        for _ in range(6):  # until the shell is up, what is typed may be lost: type it again
            page.locator(".xterm-helper-textarea").first.focus()
            page.keyboard.type("echo written-in-the-terminal > made-in-terminal.txt\n", delay=20)
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not (made.exists() and made.read_text() == "written-in-the-terminal\n"):
                time.sleep(0.2)
            if made.exists() and made.read_text() == "written-in-the-terminal\n":
                break
        assert made.read_text() == "written-in-the-terminal\n", "the terminal's command did not run"
        shots("terminal")
        context.close()
    assert api.post("/api/v1/workspaces/editor/stop").status_code == 200
    wait_phase(api, "editor", "STOPPED")
    assert not folder.exists()
    assert api.post("/api/v1/workspaces/editor/start").status_code == 200
    wait_phase(api, "editor", "ACTIVE")
    assert (folder / "made-in-terminal.txt").read_text() == "written-in-the-terminal\n"
    api.post("/api/v1/workspaces/editor/stop")
    wait_phase(api, "editor", "STOPPED")

"""Browser workspaces in the lab, in headless Chromium against a real JupyterLab, a real
backend and a real code-server.

A user creates a workspace from the Workspaces tab's form (a memory amount the server
refuses is shown next to its field first), watches it become ACTIVE in its view (with
its startup command's output in the log; the view comes back on reload), opens VS Code from the list through the lab's
forward in a new browser tab and sees the workbench load, then stops the workspace with
its switch. From a failed node of an execution, "Debug in a workspace" makes a workspace
that reproduces it, whose view links back to the execution. The forward itself answers
only under the lab's login and only for paths inside a workspace.
"""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from browser import Shots, open_execution, text_contrast
from lab_fixture import LabProcess
from playwright.sync_api import Locator, Page, expect
from server_fixture import ServerProcess
from tornado import httpclient, websocket

pytestmark = pytest.mark.slow

NAME = "lab-ws"
FORWARD = f"plait/workspaces/default/development/{NAME}/"


def wait_for_saved_layout(page: Page, text: str, timeout: float = 15.0) -> None:
    """Wait until the lab has saved its layout (the open views) with `text` in it."""
    layout = page.url.split("/lab")[0] + "/lab/api/workspaces/default"
    deadline = time.monotonic() + timeout
    while text not in page.request.get(layout).text():
        assert time.monotonic() < deadline, f"the lab did not save a layout with {text} in {timeout} s"
        page.wait_for_timeout(200)


def open_workspaces(page: Page) -> Locator:
    """The sidebar's Workspaces tab (opening the plait sidebar first when it is closed); its list."""
    if not page.get_by_role("tablist", name="plait lists").is_visible():  # the tab toggles the sidebar
        page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Workspaces", exact=True).click()
    return page.get_by_role("list", name="Workspaces")


def test_create_open_in_vs_code_and_stop_from_the_lab(page: Page, backend: ServerProcess) -> None:
    listing = open_workspaces(page)
    expect(page.get_by_text("No workspaces yet.")).to_be_visible(timeout=15_000)
    page.get_by_role("button", name="New workspace").click()

    form = page.get_by_role("form", name="New workspace")
    form.get_by_label("Name", exact=True).fill(NAME)
    form.get_by_label("Description").fill("made in the lab")
    form.get_by_label("Memory").fill("lots")
    form.get_by_label("On startup").fill("echo hello-from-startup")
    form.get_by_label("Idle TTL (seconds)").fill("900")
    form.get_by_role("button", name="Create workspace").click()
    memory = form.get_by_label("Memory")
    expect(memory).to_have_attribute("aria-invalid", "true", timeout=15_000)
    expect(form.locator("#plait-ws-mem-error")).to_contain_text("resources.mem")
    page.shots("workspace-form-refused")
    memory.fill("1Gi")
    form.get_by_role("button", name="Create workspace").click()

    view = page.get_by_role("region", name=f"Workspace {NAME}")
    expect(view.get_by_role("heading", name=NAME)).to_contain_text("ACTIVE", timeout=60_000)
    facts = view.get_by_label("About this workspace")
    expect(facts).to_contain_text("2 CPU · 1Gi")
    expect(facts).to_contain_text("15m 0s")
    expect(view.get_by_label(f"Log of {NAME}")).to_contain_text("hello-from-startup", timeout=15_000)
    page.shots("workspace-view")

    # the view comes back when the lab is loaded again, like the other views
    wait_for_saved_layout(page, NAME)
    page.reload()
    expect(view.get_by_label("About this workspace")).to_contain_text("2 CPU · 1Gi", timeout=60_000)

    listing = open_workspaces(page)
    row = listing.get_by_role("listitem").filter(has=page.get_by_role("button", name=f"Workspace {NAME}"))
    expect(row).to_contain_text("ACTIVE", timeout=15_000)
    expect(row).to_contain_text("2 CPU · 1Gi · TTL 15m 0s")
    switch = row.get_by_role("switch", name=f"Run {NAME}")
    expect(switch).to_have_attribute("aria-checked", "true")
    page.shots("workspaces-tab")
    low = [m for m in text_contrast(page.locator(".plait-WorkspaceList")) if m["ratio"] < 4.5]
    assert not low, f"the Workspaces tab is hard to read (WCAG AA needs 4.5:1): {low}"

    with page.context.expect_page() as opened:
        row.get_by_role("button", name="Open in VS Code").click()
    vscode = opened.value
    vscode.wait_for_load_state()
    assert vscode.url.startswith(page.url.split("/lab")[0] + "/" + FORWARD), vscode.url
    expect(vscode.locator(".monaco-workbench")).to_be_visible(timeout=60_000)
    # The workbench talks to its server over the forwarded WebSocket: the explorer shows the folder.
    expect(vscode.locator(".explorer-folders-view, .explorer-viewlet").first).to_be_visible(timeout=60_000)
    vscode.wait_for_timeout(1000)
    Shots(vscode, "test_create_open_in_vs_code_and_stop_from_the_lab-vscode")("workbench")
    vscode.close()

    switch.click()
    expect(row).to_contain_text("STOPPED", timeout=60_000)
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(row.get_by_role("button", name="Open in VS Code")).to_have_count(0)
    with backend.remote() as remote:
        assert remote.get_workspace(NAME).phase == "STOPPED"


def test_the_forward_needs_the_lab_login_and_stays_inside_the_workspace(
    lab: LabProcess, backend: ServerProcess
) -> None:
    """Without Jupyter's login nothing reaches the workspace (HTTP nor WebSocket); with it, a path
    that would leave the workspace is refused before the backend sees it."""
    answer = httpx.get(lab.url(FORWARD))
    assert answer.status_code == 302 and answer.headers["location"].startswith("/login")

    async def websocket_without_login() -> None:
        url = lab.base.replace("http", "ws", 1) + f"/{FORWARD}stable-x"
        await websocket.websocket_connect(httpclient.HTTPRequest(url))

    with pytest.raises(httpclient.HTTPClientError, match="403"), ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, websocket_without_login()).result()  # this thread has Playwright's loop
    for path in ("..%2F..%2F..%2Fapi%2Fv1%2Fsecrets", "%2E%2E/%2E%2E/x", "a%5C..%5Cb"):
        answer = httpx.get(lab.url(FORWARD + path), headers=lab.auth)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["error"] == "bad_path"


@pytest.fixture(scope="module")
def failed_run(backend: ServerProcess, resource) -> dict[str, str]:
    """An ingest that failed in its `parse` task (node n1)."""
    failing = resource("lab/failing.py")
    with backend.remote() as remote:
        remote.register(failing.ingest)
        run = remote.execute(failing.ingest, {"rows": 3}, name="ws-debug", wait=True, timeout=120)
        assert run.phase == "FAILED", run.phase
    return {"id": run.id, "failed": run.error["node"]}


def test_debug_a_failed_node_in_a_workspace(page: Page, backend: ServerProcess, failed_run: dict[str, str]) -> None:
    execution, failed = failed_run["id"], failed_run["failed"]
    open_execution(page, execution)
    panel = page.get_by_role("complementary", name=f"Node {failed}")
    expect(panel).to_be_visible(timeout=10_000)
    debug = panel.get_by_role("button", name="Debug in a workspace")
    debug.scroll_into_view_if_needed()
    page.shots("failed-node")
    debug.click()

    heading = page.get_by_role("main").get_by_role("heading", name=re.compile(r"^debug"))
    expect(heading).to_contain_text("ACTIVE", timeout=60_000)
    name = heading.inner_text().split()[0]
    view = page.get_by_role("region", name=f"Workspace {name}")
    expect(view.get_by_text("Debug workspace")).to_be_visible()
    made_from = view.get_by_label("About this workspace")
    expect(made_from).to_contain_text(re.compile(rf"node {failed} \(\S*failing\.parse\) of execution {execution}"))
    page.shots("debug-workspace-view")
    made_from.get_by_role("button", name=execution).click()
    expect(page.get_by_role("region", name=f"Execution {execution}")).to_be_visible()
    with backend.remote() as remote:
        info = remote.get_workspace(name)
        assert info.origin is not None
        assert (info.origin["execution_id"], info.origin["node_id"]) == (execution, failed)
        assert info.origin["task"].endswith("failing.parse")
        remote.stop_workspace(name)

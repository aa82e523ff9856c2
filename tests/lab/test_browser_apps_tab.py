"""Apps in the lab, in headless Chromium against a real JupyterLab and a real backend.

A user deploys the FastAPI echo app with `plait.Remote().deploy_app`, sees it Started in
the Apps tab (desired state, CPU, memory, endpoint), opens its view (replicas, events,
its replica's log; the view comes back on reload), opens the app through the lab's
forward in a new browser tab and reads its JSON, and stops it. From a SUCCEEDED run of
`weekly`, the execution view's "Dashboard" button deploys a Panel dashboard of its
outputs and opens the app's view; "Open dashboard" shows the page (drawn over the
forwarded WebSocket) with the run's Markdown note; back in the execution view, "Open
dashboard" is offered there too.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from browser import Shots, open_execution, text_contrast
from lab_fixture import LabProcess
from playwright.sync_api import Locator, Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow

RESOURCES = Path(__file__).resolve().parents[1] / "resources"
FORWARD = "plait/apps/default/development/echo/"


def open_apps(page: Page) -> Locator:
    """The sidebar's Apps tab (opening the plait sidebar first when it is closed); its list."""
    if not page.get_by_role("tablist", name="plait lists").is_visible():  # the tab toggles the sidebar
        page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Apps", exact=True).click()
    return page.get_by_role("list", name="Apps")


def wait_for_saved_layout(page: Page, text: str, timeout: float = 15.0) -> None:
    """Wait until the lab has saved its layout (the open views) with `text` in it."""
    layout = page.url.split("/lab")[0] + "/lab/api/workspaces/default"
    deadline = time.monotonic() + timeout
    while text not in page.request.get(layout).text():
        assert time.monotonic() < deadline, f"the lab did not save a layout with {text} in {timeout} s"
        page.wait_for_timeout(200)


@pytest.fixture(scope="module")
def echo(backend: ServerProcess) -> str:
    """The echo app, deployed and Started (its page answers JSON)."""
    from plait.app import load_apps

    [app] = [a for a in load_apps(RESOURCES / "serving" / "echo_app.py") if a.name == "echo"]
    with backend.remote() as remote:
        info = remote.deploy_app(app, timeout=120)
        assert info.status == "Started", (info.status, info.reason)
    return info.name


def test_an_app_in_the_tab_its_view_open_and_stop(page: Page, lab: LabProcess, backend: ServerProcess,
                                                   echo: str) -> None:
    listing = open_apps(page)
    row = listing.get_by_role("listitem").filter(has=page.get_by_role("button", name=f"App {echo}", exact=True))
    main = row.get_by_role("button", name=f"App {echo}", exact=True)
    expect(main).to_contain_text("Started", timeout=15_000)
    expect(main).to_contain_text("desired Started · 1 CPU · 1Gi")
    expect(row).to_contain_text("/apps/default/development/echo/")
    page.shots("apps-tab")
    low = [m for m in text_contrast(page.locator(".plait-AppList")) if m["ratio"] < 4.5]
    assert not low, f"the Apps tab is hard to read (WCAG AA needs 4.5:1): {low}"

    main.click()
    view = page.get_by_role("region", name=f"App {echo}")
    expect(view.get_by_role("heading", name=echo)).to_contain_text("Started", timeout=15_000)
    facts = view.get_by_label("About this app")
    expect(facts).to_contain_text("Requires authyes")
    expect(facts).to_contain_text("1 CPU · 1Gi")
    replicas = view.get_by_role("region", name="Replicas").get_by_role("row")
    expect(replicas.nth(1)).to_contain_text("READY")
    expect(view.get_by_label(f"Events of {echo}")).not_to_be_empty()
    expect(view.get_by_label(f"Log of {echo} replica 0")).to_contain_text("uvicorn", ignore_case=True, timeout=15_000)
    page.shots("app-view")

    # the view comes back when the lab is loaded again, like the other views
    wait_for_saved_layout(page, f'\\"view\\":\\"app\\",\\"name\\":\\"{echo}\\"')  # the view's arguments, in JSON
    page.reload()
    expect(view.get_by_label("About this app")).to_contain_text("1 CPU · 1Gi", timeout=60_000)

    with page.context.expect_page() as opened:
        view.get_by_role("button", name="Open", exact=True).click()
    app_page = opened.value
    app_page.wait_for_load_state()
    assert app_page.url == lab.url(FORWARD), app_page.url
    assert json.loads(app_page.locator("body").inner_text()) == {"hello": "world", "greeting": "bonjour"}
    app_page.close()

    # one real round trip through the forward: the app's own path and query, under the lab's login only
    answer = httpx.get(lab.url(FORWARD + "echo"), params={"text": "through the lab"}, headers=lab.auth)
    assert answer.status_code == 200, answer.text
    assert answer.json()["text"] == "through the lab"
    assert answer.json()["prefix"] == "/apps/default/development/echo"
    refused = httpx.get(lab.url(FORWARD + "echo"), params={"text": "x"})
    assert refused.status_code == 302 and refused.headers["location"].startswith("/login")
    for path in ("..%2F..%2F..%2Fapi%2Fv1%2Fsecrets", "%2E%2E/other/x"):
        refused = httpx.get(lab.url(FORWARD + path), headers=lab.auth)
        assert (refused.status_code, refused.json()["error"]) == (400, "bad_path"), path

    view.get_by_role("button", name="Stop", exact=True).click()
    expect(view.get_by_role("heading", name=echo)).to_contain_text("Stopped", timeout=30_000)
    expect(view.get_by_role("button", name="Start", exact=True)).to_be_visible()
    expect(view.get_by_role("button", name="Open", exact=True)).to_have_count(0)
    listing = open_apps(page)
    expect(listing.get_by_role("button", name=f"App {echo}", exact=True)).to_contain_text("Stopped", timeout=15_000)
    with backend.remote() as remote:
        assert remote.get_app(echo).status == "Stopped"


@pytest.fixture(scope="module")
def scored(backend: ServerProcess, resource) -> str:
    """A SUCCEEDED run of `weekly` (4 weeks): a table, a curve and a Markdown note."""
    module = resource("dashboards/scoring_run.py")
    with backend.remote() as remote:
        remote.register(module.weekly)
        run = remote.execute(module.weekly, {"weeks": 4}, wait=True, timeout=120)
        assert run.phase == "SUCCEEDED", (run.phase, run.error)
    return run.id


def test_the_dashboard_of_an_execution(page: Page, lab: LabProcess, scored: str) -> None:
    from plait.dashboards import app_name

    name = app_name(f"run-{scored}")
    header = open_execution(page, scored)
    button = header.get_by_role("button", name="Dashboard", exact=True)
    expect(button).to_be_visible(timeout=30_000)
    button.click()
    expect(header.get_by_role("button", name="Deploying dashboard…")).to_be_disabled()
    view = page.get_by_role("region", name=f"App {name}")
    expect(view.get_by_role("heading", name=name)).to_contain_text("Started", timeout=120_000)

    page.shots("dashboard-app-view")
    with page.context.expect_page() as opened:
        view.get_by_role("button", name="Open", exact=True).click()
    board = opened.value
    board.wait_for_load_state()
    assert board.url.startswith(lab.url(f"plait/apps/default/development/{name}/")), board.url
    expect(board.get_by_text("weeks scored")).to_be_visible(timeout=60_000)
    board.wait_for_timeout(500)
    Shots(board, "test_the_dashboard_of_an_execution-board")("dashboard")
    board.close()

    # back in the execution view, the dashboard it made is offered too
    page.get_by_role("tab", name=re.compile(f"weekly · {scored}")).click()
    expect(header.get_by_role("button", name="Open dashboard")).to_be_visible()
    page.shots("execution-with-its-dashboard")


def test_a_dashboard_needs_a_login_and_an_execution_that_exists(lab: LabProcess) -> None:
    route = lab.url("plait/dashboards/execution/")
    assert httpx.post(route + "nosuchrun").status_code == 403  # no login (nor XSRF token): nothing is deployed
    missing = httpx.post(route + "nosuchrun", headers=lab.auth, timeout=60)
    assert missing.status_code == 404, missing.text
    assert "nosuchrun" in missing.json()["message"]
    bad = httpx.post(route + "a%20b", headers=lab.auth)
    assert (bad.status_code, bad.json()["error"]) == (400, "bad_path")

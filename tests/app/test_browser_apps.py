"""Apps in a real browser: a Panel app updates over its WebSocket, and dashboards made from a
notebook and from an execution are served by the backend.

One `plait server` and one headless Chromium serve the module. Each page is opened with the
app's session link, as a user's browser would; screenshots go to $PLAIT_SCREENSHOTS.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from plait.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lab"))
from browser import Shots, launch  # noqa: E402
from server_fixture import ServerProcess, running_server  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SERVING = ROOT / "tests" / "resources" / "serving"
pytestmark = [pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with running_server(tmp_path_factory.mktemp("apps-browser") / "home") as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from launch()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    found = context.new_page()
    found.shots = Shots(found, request.node.name)
    yield found
    context.close()


def cli(server: ServerProcess, *args: str) -> str:
    result = CliRunner().invoke(main, list(args), env={"PLAIT_ENDPOINT": server.url, "PLAIT_TOKEN": server.token,
                                                       "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_a_panel_app_updates_its_page_over_the_websocket(server: ServerProcess, page: Any) -> None:
    from plait.app import load_apps

    remote = server.remote()
    [app] = load_apps(SERVING / "panel_app.py")
    remote.deploy_app(app)
    page.goto(remote.app_url("squares"))
    page.get_by_text("3 squared is 9").wait_for(timeout=60_000)
    page.shots("panel-app")
    handle = page.locator(".noUi-handle").first
    handle.focus()
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.get_by_text("7 squared is 49").wait_for(timeout=30_000)  # the server's answer, over the WebSocket
    page.shots("panel-app-after-the-slider-moved")
    assert "/apps/default/development/squares/" in page.url and "ticket" not in page.url
    remote.stop_app("squares")


def test_a_notebook_becomes_a_dashboard_app(server: ServerProcess, page: Any) -> None:
    said = cli(server, "dashboard", str(ROOT / "notebooks" / "dashboard.ipynb"), "--deploy", "--name", "noisy")
    assert "Deploying dashboard" in said and "[Status] Started" in said
    url = said.split("Deployed endpoint: ", 1)[1].split()[0]
    page.goto(url)
    page.get_by_text("A noisy curve").first.wait_for(timeout=60_000)
    page.shots("notebook-dashboard")
    listed = cli(server, "get", "apps")
    assert "noisy" in listed and "Started" in listed
    again = cli(server, "dashboard", str(ROOT / "notebooks" / "dashboard.ipynb"), "--deploy", "--name", "noisy")
    assert "Unchanged" in again
    cli(server, "stop", "apps", "--name", "noisy")


def test_an_executions_outputs_become_a_dashboard_app(server: ServerProcess, page: Any) -> None:
    remote = server.remote()
    remote.register(str(ROOT / "tests" / "resources" / "dashboards" / "scoring_run.py"), version="v1")
    run = remote.execute(remote.fetch_workflow("scoring_run.weekly"), inputs={"weeks": 5}).wait(timeout=120)
    assert run.phase == "SUCCEEDED", run.error
    said = cli(server, "dashboard", "--execution", run.id, "--deploy")
    assert f"as app run-{run.id.lower()}"[:40] in said.lower() or "Deploying dashboard" in said
    url = said.split("Deployed endpoint: ", 1)[1].split()[0]
    page.goto(url)
    page.get_by_text("5 weeks scored").first.wait_for(timeout=60_000)
    page.get_by_text("43").first.wait_for(timeout=30_000)  # the table's last week: 10 * 4 + 3
    page.shots("execution-dashboard")
    name = url.split("/apps/default/development/", 1)[1].split("/", 1)[0]
    cli(server, "stop", "apps", "--name", name)

"""The Dask dashboard from the lab, in headless Chromium, through the whole chain.

The sidebar's "Dask dashboard" link opens `/plait/api/dask/status` under the
Jupyter login; the lab forwards it (pages and Bokeh's WebSocket) to the
backend with its token, which forwards it to the dashboard on loopback. A
browser without the Jupyter login gets the login page instead.
"""

from __future__ import annotations

import pytest
from browser import Shots
from lab_fixture import LabProcess
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.slow
# Bokeh's documents exist once its session is connected over the WebSocket.
BOKEH_CONNECTED = "() => window.Bokeh !== undefined && Bokeh.documents.length > 0"



def test_the_sidebar_links_to_the_dashboard_served_under_the_jupyter_login(
    browser: Browser, lab: LabProcess, request: pytest.FixtureRequest
) -> None:
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(lab.url(f"lab?reset&token={lab.token}"))
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    shots = Shots(page, request.node.name)
    page.get_by_role("tab", name="plait: workflows and executions").click()
    link = page.get_by_role("link", name="Dask dashboard")
    expect(link).to_be_visible(timeout=30_000)
    assert link.get_attribute("href").endswith("/plait/api/dask/status")
    shots("sidebar-dashboard-link")
    with context.expect_page() as opened:
        link.click()
    dashboard = opened.value
    dashboard.wait_for_load_state()
    assert dashboard.url == lab.url("plait/api/dask/status")
    dashboard.wait_for_function(BOKEH_CONNECTED, timeout=60_000)
    shots.page = dashboard
    shots("dask-dashboard")

    # What dask-labextension reads from a dashboard URL: the list of single plots, then each plot's page.
    plots = dashboard.request.get(lab.url("plait/api/dask/individual-plots.json"))
    assert plots.ok and "/individual-task-stream" in plots.json().values(), plots.text()[:300]
    dashboard.goto(lab.url("plait/api/dask/individual-task-stream"))
    dashboard.wait_for_function(BOKEH_CONNECTED, timeout=60_000)
    shots("dask-individual-task-stream")
    context.close()

    stranger = browser.new_context()
    elsewhere = stranger.new_page()
    elsewhere.goto(lab.url("plait/api/dask/status"))
    assert "/login" in elsewhere.url
    expect(elsewhere.get_by_text("Dask", exact=False)).to_have_count(0)
    stranger.close()

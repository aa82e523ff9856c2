"""Registered workflows, tasks and launch plans in the lab, in headless Chromium against a real
JupyterLab and a real backend.

What a daily user sees: an empty list that says how to register something (and fits the
sidebar), a task whose last run is the workflow execution that ran it, a workflow's page
with its docstring, interface and launch plans, a task's page with its retries, cache,
timeout and resources, and the arrow keys moving between rows.

The module's backend starts empty: the empty-list test runs first, before `programs`
registers anything.
"""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from playwright.sync_api import Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def programs(backend: ServerProcess, resource) -> ModuleType:
    module = resource("lab/entities.py")
    with backend.remote() as remote:
        remote.register(module.prepare, module.train, module.prepare_nightly)
    return module



def open_list(page: Page, tab: str) -> None:
    if not page.get_by_role("tablist", name="plait lists").is_visible():  # the tab toggles the sidebar
        page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name=tab, exact=True).click()


FITS = """e => {
    const sidebar = document.querySelector('.plait-Sidebar').getBoundingClientRect();
    const list = e.closest('.plait-EntityList');
    const box = e.getBoundingClientRect();
    return {
        sidebar: sidebar.width,
        inside: box.left >= sidebar.left - 1 && box.right <= sidebar.right + 1,
        overflowing: e.scrollWidth > e.clientWidth + 1 || list.scrollWidth > list.clientWidth + 1,
        lines: Math.round(box.height / parseFloat(getComputedStyle(e.querySelector('p:last-child')).lineHeight)),
    };
}"""


def test_empty_lists_say_how_to_register_and_fit_the_sidebar(page: Page) -> None:
    open_list(page, "Workflows")  # this module's backend: nothing registered yet
    empty = page.locator(".plait-Sidebar .plait-Empty")
    expect(empty).to_contain_text("No workflows registered yet.")
    expect(empty).to_contain_text("%plait launch NAME")
    expect(empty).to_contain_text("plait register FILE")
    fits = empty.evaluate(FITS)
    assert 200 <= fits["sidebar"] <= 340, fits  # the default width
    assert fits["inside"] and not fits["overflowing"] and fits["lines"] > 2, fits
    page.shots("no-workflows")

    open_list(page, "Launch plans")
    expect(empty).to_contain_text("No launch plans registered yet.")
    expect(empty).to_contain_text("LaunchPlan.get_or_create(...)")
    assert not empty.evaluate(FITS)["overflowing"]
    open_list(page, "Tasks")
    expect(empty).to_contain_text("No tasks registered yet.")
    page.get_by_role("searchbox", name="Search tasks").fill("a_rather_long_search_that_matches_nothing_at_all")
    expect(empty).to_contain_text("No tasks match “a_rather_long_search_that_matches_nothing_at_all”.")
    fits = empty.evaluate(FITS)
    assert fits["inside"] and not fits["overflowing"], fits
    page.shots("no-match")


def test_a_task_run_by_a_workflow_shows_that_run_as_its_last(
    page: Page, backend: ServerProcess, programs: ModuleType
) -> None:
    with backend.remote() as remote:
        run = remote.execute(programs.prepare, {"values": [1.0, 4.0]}, name="entities-prepare", wait=True,
                             timeout=120)
        assert run.phase == "SUCCEEDED"
    open_list(page, "Tasks")
    task = programs.normalise.name
    row = page.get_by_role("button", name=f"Open task {task}")
    expect(row).to_contain_text(re.compile(r"last run \d+[smh] ago in prepare"))
    cell = page.get_by_role("listitem", name=f"Execution {run.id}: SUCCEEDED (node n0 of {programs.prepare.name})")
    expect(cell).to_be_visible()
    page.shots("task-last-run")
    row.click()  # its page lists the run too
    runs = page.locator(".plait-EntityView:visible").get_by_role("region", name="Runs inside workflows")
    expect(runs.get_by_role("row").nth(1)).to_contain_text(f"{run.id}preparen0SUCCEEDED")
    runs.scroll_into_view_if_needed()
    page.shots("task-page-runs-inside-workflows")
    cell.click()
    expect(page.get_by_role("region", name=f"Execution {run.id}")).to_be_visible(timeout=30_000)


def test_a_workflow_page_shows_its_docstring_interface_and_launch_plans(
    page: Page, programs: ModuleType
) -> None:
    open_list(page, "Workflows")
    page.get_by_role("button", name=f"Open workflow {programs.prepare.name}").click()
    view = page.locator(".plait-EntityView:visible")
    expect(view.get_by_role("region", name="Docstring")).to_contain_text("then multiplied by `scale`")
    inputs = view.get_by_role("region", name="Interface").get_by_role("table", name="Inputs")
    expect(inputs.get_by_role("row")).to_have_text(["InputTypeDefault", "valueslist[float]required", "scalefloat1.0"])
    outputs = view.get_by_role("region", name="Interface").get_by_role("table", name="Outputs")
    expect(outputs.get_by_role("row")).to_have_text(["OutputType", "o0list[float]"])
    plans = view.get_by_role("region", name="Launch plans").get_by_role("listitem")
    expect(plans).to_have_count(2)
    expect(plans.first).to_contain_text("default")
    expect(plans.nth(1)).to_contain_text("prepare_nightly")
    page.shots("workflow-page")
    plans.nth(1).get_by_role("button", name="prepare_nightly").click()
    expect(page.locator(".plait-EntityView:visible .plait-Kicker")).to_have_text("Launch plan")


def test_a_task_page_shows_retries_cache_timeout_and_resources(page: Page, programs: ModuleType) -> None:
    open_list(page, "Tasks")
    page.get_by_role("button", name=f"Open task {programs.fit.name}").click()
    settings = page.locator(".plait-EntityView:visible").get_by_role("region", name="Run settings")
    expect(settings.locator("dt")).to_have_text(["Retries", "Cache", "Timeout", "Requests", "Limits"])
    expect(settings.locator("dd")).to_have_text(
        ["2 (3 attempts in all)", "on, version 1", "1m 0s", "cpu 1 · mem 200Mi", "mem 1Gi"])
    page.shots("task-page")


def test_arrow_keys_move_between_rows(page: Page, programs: ModuleType) -> None:
    open_list(page, "Tasks")
    rows = page.locator(".plait-Sidebar .plait-RowMain")
    expect(rows).to_have_count(2)  # fit and normalise
    rows.first.focus()
    page.keyboard.press("ArrowDown")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("ArrowDown")  # the last row stays
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("Home")
    expect(rows.first).to_be_focused()
    page.keyboard.press("End")
    expect(rows.nth(1)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(rows.first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".plait-EntityView:visible .plait-Kicker")).to_have_text("Task")

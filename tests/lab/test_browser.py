"""The lab extension in headless Chromium, against a real JupyterLab and a real backend.

What a user does: open the plait sidebar, find a registered workflow, see its
DAG, launch it with typed inputs (a bad value gets a message by its field),
watch the execution succeed, read a node's logs, look at the timeline and
relaunch. Every step saves a screenshot (`make test` prints the folder).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from lab_fixture import LabProcess
from playwright.sync_api import Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow
RUN_TIMEOUT_MS = 120_000



@pytest.fixture(scope="module")
def pipeline(backend: ServerProcess, resource) -> object:
    module = resource("lab/pipeline.py")
    backend.remote().register(module.report)
    return module



def open_sidebar(page: Page) -> None:
    page.get_by_role("tab", name="plait: workflows and executions").click()
    expect(page.get_by_role("tablist", name="plait lists")).to_be_visible()


def open_workflow(page: Page, name: str) -> None:
    open_sidebar(page)
    page.get_by_role("tab", name="Workflows", exact=True).click()
    page.get_by_role("searchbox", name="Search workflows").fill(name.rsplit(".", 1)[-1])
    page.get_by_role("button", name=f"Open workflow {name}").click()


def dag_node(page: Page, label: str):
    return page.get_by_role("button", name=re.compile(rf"^node {re.escape(label)} \("))


def test_find_a_workflow_and_see_its_dag(page: Page, pipeline) -> None:
    open_sidebar(page)
    page.get_by_role("searchbox", name="Search workflows").fill("report")
    row = page.get_by_role("button", name=f"Open workflow {pipeline.report.name}")
    expect(row).to_be_visible()
    page.shots("sidebar-search")
    row.click()
    expect(page.get_by_role("group", name=re.compile(r"^DAG of .*report"))).to_be_visible()
    expect(dag_node(page, "describe")).to_be_visible()
    expect(dag_node(page, "summarise")).to_be_visible()
    page.get_by_role("button", name="Expand summarise").click()
    expect(dag_node(page, "clean")).to_be_visible()
    expect(dag_node(page, "total")).to_be_visible()
    page.shots("workflow-dag-expanded")


def test_launch_with_typed_inputs_follow_logs_timeline_and_relaunch(page: Page, pipeline) -> None:
    open_workflow(page, pipeline.report.name)
    page.get_by_role("button", name="Launch", exact=True).click()
    form = page.locator(".plait-View:visible")
    values = form.get_by_role("textbox", name="values", exact=True)
    values.fill("[3, x]")
    form.get_by_role("textbox", name="label", exact=True).click()  # leaving the field checks it
    expect(values).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_text(re.compile(r"values expects list\[int\]"))).to_be_visible()
    page.shots("launch-form-field-error")

    values.fill("[3, -1, 4]")
    form.get_by_role("textbox", name="label", exact=True).fill("total")
    form.get_by_role("textbox", name="Execution name").fill("lab-first-run")
    form.get_by_role("button", name="Launch", exact=True).click()

    status = page.get_by_role("status", name="Execution phase")
    expect(status).to_have_text("SUCCEEDED", timeout=RUN_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="lab-first-run")).to_be_visible()
    expect(page.get_by_role("table", name="Outputs")).to_contain_text("total: 7")
    page.shots("execution-succeeded")

    nodes = page.get_by_role("table", name="Nodes")
    nodes.get_by_role("row").filter(has_text="describe").first.click()
    logs = page.get_by_label(re.compile(r"^Logs of n\d+$"))
    expect(logs).to_contain_text("total: 7")
    page.shots("node-logs")
    page.get_by_role("button", name="Close node panel").click()

    page.get_by_role("tab", name="Timeline").click()
    expect(page.get_by_role("list", name="Timeline").get_by_role("button").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile(r": SUCCEEDED, "))).not_to_have_count(0)
    page.shots("timeline")

    page.get_by_role("tab", name="Graph").click()
    expect(dag_node(page, "describe")).to_have_attribute("aria-label", re.compile("SUCCEEDED"))
    page.shots("graph-by-phase")

    page.get_by_role("button", name="Relaunch", exact=True).click()
    expect(page.get_by_role("heading", name="lab-first-run")).to_be_hidden()  # a new tab, in front
    relaunched = page.get_by_role("region", name=re.compile(r"^Execution "))
    expect(relaunched.get_by_role("status", name="Execution phase")).to_have_text(
        "SUCCEEDED", timeout=RUN_TIMEOUT_MS)
    expect(relaunched.get_by_role("table", name="Outputs")).to_contain_text("total: 7")  # same inputs
    page.shots("relaunched")


def test_the_executions_list_shows_runs_as_they_happen(page: Page, pipeline, backend: ServerProcess) -> None:
    open_sidebar(page)
    page.get_by_role("tab", name="Executions", exact=True).click()
    run = backend.remote().execute(pipeline.report, {"values": [1, 2]}, name="lab-listed-run")
    row = page.get_by_role("button", name=re.compile(r"^Open execution lab-listed-run, "))
    expect(row).to_be_visible(timeout=30_000)
    run.wait(timeout=120)
    expect(page.get_by_role("button", name="Open execution lab-listed-run, SUCCEEDED")).to_be_visible(
        timeout=60_000)
    page.shots("executions-list")

    search = page.get_by_role("searchbox", name="Filter executions by name")
    search.fill("listed")  # part of the id; "port" would find it by its workflow's name
    expect(page.get_by_role("button", name="Open execution lab-listed-run, SUCCEEDED")).to_be_visible()
    search.fill("REPO")
    expect(page.get_by_role("button", name="Open execution lab-listed-run, SUCCEEDED")).to_be_visible()
    search.fill("no-such-run")
    expect(page.get_by_role("status").filter(has_text="No executions match “no-such-run”.")).to_be_visible()
    page.shots("executions-no-match")
    search.fill("")

    page.get_by_role("tab", name="Workflows", exact=True).click()
    page.get_by_role("searchbox", name="Search workflows").fill("report")
    strip = page.get_by_role("list", name="Last runs").first
    expect(strip.get_by_role("listitem", name="Execution lab-listed-run: SUCCEEDED")).to_be_visible()
    page.shots("last-runs-strip")


def test_notebooks_render_the_dag_and_link_launched_executions(
    page: Page, lab: LabProcess, pipeline, backend: ServerProcess
) -> None:
    from plait.model.dag import MIME
    from plait.notebook.dag import dag_of

    run = backend.remote().execute(pipeline.report, {"values": [5]}, name="lab-notebook-run", wait=True)
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("%plait dag report")
    cell.outputs = [nbformat.v4.new_output("display_data", data={
        MIME: dag_of(pipeline.report), "text/plain": "report (3 nodes)"})]
    launched = nbformat.v4.new_code_cell("%plait launch report --values '[5]'")
    launched.outputs = [nbformat.v4.new_output("display_data", data={  # what %plait launch shows
        "text/html": f'execution <code data-plait-execution="{run.id}">{run.id}</code> of report',
        "text/plain": f"execution {run.id}"})]
    notebook.cells = [launched, cell]
    nbformat.write(notebook, str(Path(lab.root) / "dag.ipynb"))
    lab.trust(Path(lab.root) / "dag.ipynb")  # outputs a kernel just produced are trusted
    page.goto(lab.url(f"lab/tree/dag.ipynb?token={lab.token}"))
    expect(page.get_by_role("dialog")).to_be_visible()  # "Select Kernel": saved outputs need none
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_be_hidden()
    dag = page.locator(".jp-OutputArea-output .plait-DagView")
    expect(dag).to_be_visible(timeout=60_000)
    expect(dag.get_by_role("button", name=re.compile(r"^node describe \("))).to_be_visible()
    page.shots("notebook-dag")
    page.locator(f"[data-plait-execution='{run.id}']").click()
    expect(page.get_by_role("heading", name="lab-notebook-run")).to_be_visible()
    expect(page.get_by_role("status", name="Execution phase")).to_have_text("SUCCEEDED")
    page.shots("notebook-link-opens-execution")


def test_a_500_node_dag_is_drawn(page: Page, backend: ServerProcess, resource) -> None:
    wide = resource("lab/wide.py")
    backend.remote().register(wide.wide)
    open_workflow(page, wide.wide.name)
    nodes = page.locator(".jp-MainAreaWidget:visible .plait-DagView [aria-label^='node ']")
    expect(nodes).to_have_count(500, timeout=30_000)
    page.shots("dag-500-nodes")


UNNAMED = """() => {
  const named = el => (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
    el.getAttribute('title') || (el.labels && el.labels.length) || el.textContent.trim());
  const controls = document.querySelectorAll(
    '.plait-SidebarPanel :is(button, input, select, textarea, [role=button], [role=tab]),' +
    '.plait-View :is(button, input, select, textarea, [role=button], [role=tab])');
  return [...controls].filter(el => !named(el)).map(el => el.outerHTML.slice(0, 120));
}"""


def test_every_control_has_a_role_and_a_name(page: Page, pipeline, backend: ServerProcess) -> None:
    backend.remote().execute(pipeline.report, {"values": [2]}, name="lab-a11y-run", wait=True)
    open_workflow(page, pipeline.report.name)
    page.get_by_role("button", name="Launch", exact=True).click()
    expect(page.get_by_role("button", name="Cancel")).to_be_visible()
    page.get_by_role("tab", name="Executions", exact=True).click()
    page.get_by_role("button", name=re.compile(r"^Open execution lab-a11y-run, ")).click()
    expect(page.get_by_role("status", name="Execution phase")).to_have_text("SUCCEEDED")
    for tab in ("Nodes", "Graph", "Timeline"):
        page.get_by_role("tab", name=tab, exact=True).click()
        unnamed = page.evaluate(UNNAMED)
        assert unnamed == [], f"controls without an accessible name ({tab}):\n" + json.dumps(unnamed, indent=1)
    page.get_by_role("tab", name="Nodes", exact=True).click()
    page.get_by_role("table", name="Nodes").get_by_role("row").filter(has_text="describe").first.click()
    expect(page.get_by_role("complementary", name=re.compile(r"^Node "))).to_be_visible()
    assert page.evaluate(UNNAMED) == []
    page.shots("execution-view-node-panel")

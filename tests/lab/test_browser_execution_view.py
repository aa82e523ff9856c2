"""An execution's tab as a daily user reads it, in headless Chromium against a real JupyterLab and backend.

A failed nightly run opens on the node that failed (inside its subworkflow, not the
subworkflow), its error links to that node's log, and the log comes before the
node's large input, which is shortened until "Show all". The timeline names rows by
task, Escape closes the node panel and leaves focus on the node it was opened from,
and the graph fits itself again after a subworkflow expands.
"""

from __future__ import annotations

import re

import pytest
from browser import open_execution
from playwright.sync_api import Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow
ROWS = 200



@pytest.fixture(scope="module")
def failed_run(backend: ServerProcess, resource) -> dict[str, str]:
    """The nightly ingest, failed in `parse` inside its `ingest` subworkflow."""
    failing = resource("lab/failing.py")
    with backend.remote() as remote:
        remote.register(failing.nightly)
        run = remote.execute(failing.nightly, {"rows": ROWS}, name="view-failed", wait=True, timeout=120)
        assert run.phase == "FAILED", run.phase
        nodes = {n.path: n for n in run.nodes()}
    failed = run.error["node"]
    parent = failed.rpartition("-")[0]  # `n0-n1`: node n1 of the subworkflow node n0
    assert nodes[failed].phase == "FAILED" and nodes[parent].kind == "workflow", (failed, nodes)
    return {"id": run.id, "failed": failed, "subworkflow": parent}



def focused_path(page: Page) -> str | None:
    """The node path of the element with keyboard focus (a row, a bar, a graph node), if any."""
    return page.evaluate("() => document.activeElement?.closest('[data-path]')?.getAttribute('data-path') ?? null")


def test_a_failed_run_opens_on_its_failed_node_and_links_to_its_log(page: Page, failed_run) -> None:
    failed, sub = failed_run["failed"], failed_run["subworkflow"]
    view = open_execution(page, failed_run["id"])
    panel = page.get_by_role("complementary", name=f"Node {failed}")
    expect(panel).to_be_visible(timeout=10_000)
    rows = page.get_by_role("table", name="Nodes")
    expect(rows.locator(f"tr[data-path='{failed}']")).to_have_attribute("aria-current", "true")
    expect(rows.locator(f"tr[data-path='{sub}']")).not_to_have_attribute("aria-current", "true")
    page.shots("opens-on-failed-node")

    # The log comes before the large input, which shows its first rows and a "Show all".
    sections = panel.evaluate("""p => [...p.querySelectorAll('h4')].map(h => h.textContent)""")
    assert sections.index("Logs") < sections.index("Inputs"), sections
    log = panel.get_by_label(f"Logs of {failed}")
    expect(log).to_contain_text("row 7 has no separator", timeout=30_000)
    inputs = panel.get_by_role("table", name=f"Inputs of {failed}")
    value = inputs.locator("pre")
    shown = value.text_content() or ""
    assert "row 0: " in shown and f"row {ROWS - 1}: " not in shown, shown[-200:]
    expect(inputs).to_contain_text("more lines")
    show_all = inputs.get_by_role("button", name="Show all")
    show_all.click()
    expect(value).to_contain_text(f"row {ROWS - 1}: ")
    expect(inputs.get_by_role("button", name="Show less")).to_be_visible()
    page.shots("large-input-shown-whole")

    # The banner's link selects the node and puts its log in view, with focus.
    rows.locator("tr[data-path='n0']").click()
    expect(page.get_by_role("complementary", name="Node n0")).to_be_visible()
    banner = view.get_by_role("alert").filter(has_text="bad row 7: no separator")
    banner.get_by_role("button", name=f"Show log of {failed}").click()
    expect(panel).to_be_visible()
    expect(log).to_be_focused()
    in_view = log.evaluate("""l => { const a = l.getBoundingClientRect(), p = l.closest('aside').getBoundingClientRect();
        return a.top >= p.top - 1 && a.top < p.bottom; }""")
    assert in_view, "the log is not scrolled into the panel's view"
    page.shots("banner-log-link")


def test_timeline_names_tasks_and_escape_returns_focus(page: Page, failed_run) -> None:
    failed = failed_run["failed"]
    view = open_execution(page, failed_run["id"])
    expect(page.get_by_role("complementary", name=f"Node {failed}")).to_be_visible(timeout=10_000)

    # Escape from the node panel: the panel closes and focus is back on the row it was opened from.
    table = page.get_by_role("table", name="Nodes")
    row = table.locator("tr[data-path='n0']")
    row.focus()
    page.keyboard.press("Enter")
    panel = page.get_by_role("complementary", name="Node n0")
    expect(panel.get_by_role("heading", name=re.compile("^n0"))).to_be_focused()
    page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(row).to_be_focused()
    page.keyboard.press("ArrowDown")  # and the arrow keys go on from there
    assert focused_path(page) == table.locator("tbody tr").nth(1).get_attribute("data-path")

    page.get_by_role("tab", name="Timeline").click()
    labels = page.locator(".plait-ExecutionView-timeline-bars .plait-ExecutionView-timeline-label")
    expect(labels.first).to_be_visible()
    texts = labels.all_text_contents()
    assert [t.split(" ")[0] for t in texts] == ["ingest", "load", "parse", "publish"][: len(texts)], texts
    assert any(t == f"parse {failed}" for t in texts), texts
    bar = page.get_by_role("button", name=re.compile(rf"^parse \({failed}\): FAILED, "))
    bar.click()
    expect(page.get_by_role("complementary", name=f"Node {failed}")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("complementary", name=f"Node {failed}")).to_be_hidden()
    expect(bar).to_be_focused()
    page.shots("timeline-named-by-task")

    # In a narrow tab the workflow's name and version wrap after their separators, inside the header.
    page.set_viewport_size({"width": 640, "height": 900})
    workflow = view.locator(".plait-ExecutionView-facts dd").first
    expect(workflow).to_contain_text(" @ ")
    page.wait_for_timeout(200)
    layout = workflow.evaluate("""dd => {
        const walker = document.createTreeWalker(dd, NodeFilter.SHOW_TEXT), broken = [];
        for (let t = walker.nextNode(); t; t = walker.nextNode()) {
            const range = document.createRange(); range.selectNodeContents(t);
            const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            if (lines.size > 1 && !/\\s/.test(t.textContent.trim())) broken.push(t.textContent);
        }
        return {broken, overflow: dd.scrollWidth > dd.clientWidth + 1, tall: dd.getBoundingClientRect().height};
    }""")
    line = workflow.evaluate("dd => parseFloat(getComputedStyle(dd).lineHeight) || 17")
    assert not layout["broken"] and not layout["overflow"], layout
    assert layout["tall"] > 1.5 * line, f"the workflow's name did not wrap in a narrow tab: {layout}"
    page.shots("narrow-header-wraps")


def test_the_graph_refits_after_a_subworkflow_expands(page: Page, failed_run) -> None:
    open_execution(page, failed_run["id"])
    page.get_by_role("tab", name="Graph").click()
    svg = page.locator(".plait-ExecutionView-graph svg[role='group']")
    expect(svg).to_be_visible(timeout=30_000)
    scene = svg.locator(":scope > g")
    page.get_by_role("button", name="Zoom in").click()
    page.get_by_role("button", name="Zoom in").click()
    zoomed = scene.get_attribute("transform")
    page.get_by_role("button", name="Expand ingest").click()
    expect(svg.get_by_role("button", name=re.compile(r"^node parse \("))).to_be_visible(timeout=30_000)
    expect(scene).not_to_have_attribute("transform", zoomed or "")
    page.wait_for_timeout(200)
    outside = svg.evaluate("""s => { const v = s.getBoundingClientRect();
        return [...s.querySelectorAll('.plait-DagNode-box')].map(b => [b.closest('[data-path]').dataset.path,
            b.getBoundingClientRect()]).filter(([, r]) => r.left < v.left - 1 || r.top < v.top - 1
            || r.right > v.right + 1 || r.bottom > v.bottom + 1).map(([p]) => p); }""")
    assert outside == [], f"nodes outside the graph's view after the expand: {outside}"
    page.shots("graph-refit-after-expand")

    # Escape from a node opened in the graph returns focus to that graph node.
    node = svg.get_by_role("button", name=re.compile(r"^node load \("))
    node.click()
    expect(page.get_by_role("complementary", name=re.compile(r"^Node "))).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("complementary", name=re.compile(r"^Node "))).to_be_hidden()
    expect(node).to_be_focused()

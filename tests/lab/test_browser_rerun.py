""""Run from here" in the lab, in headless Chromium against a real JupyterLab and a real
backend.

What a user iterating on a pipeline does: open a finished run of a three-step chain, tick
the middle step (the graph marks it, and Ctrl+click there chooses too), choose "Run from
here", find the launch form titled by that step and filled with the run's inputs, launch
it unchanged; the new run succeeds with the first step REUSED (its panel links to the
original run) and only steps two and three ran again, as the file each step appends its
name to shows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser import open_execution
from playwright.sync_api import Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chain_run(backend: ServerProcess, resource, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A finished run of `chain` (first -> second -> third): its id and the file its steps
    append their names to."""
    chain = resource("lab/chain.py")
    log = tmp_path_factory.mktemp("chain") / "steps.txt"
    with backend.remote() as remote:
        remote.register(chain.chain)
        run = remote.execute(chain.chain, {"log": str(log), "seed": 1}, name="chain-source", wait=True, timeout=120)
    assert run.phase == "SUCCEEDED", run.record.get("error")
    assert log.read_text().split() == ["first", "second", "third"]
    return run.id, log


def test_run_from_the_middle_node_reuses_the_first(
        page: Page, backend: ServerProcess, chain_run: tuple[str, Path]) -> None:
    source, log = chain_run
    open_execution(page, source)
    nodes = page.get_by_role("table", name="Nodes")
    expect(nodes.locator("tr[data-path='n2']")).to_be_visible()
    bar = page.get_by_role("group", name="Run again")
    run_from = bar.get_by_role("button", name="Run from here")
    expect(run_from).to_be_disabled()

    nodes.get_by_role("checkbox", name="Run n1 again").check()
    expect(bar.get_by_text("Chosen: n1", exact=True)).to_be_visible()
    expect(run_from).to_be_enabled()
    page.shots("middle-node-chosen")

    # The graph marks the chosen node; Ctrl+click adds a node there, and drops it again.
    page.get_by_role("tab", name="Graph", exact=True).click()
    graph = page.get_by_role("group", name=re.compile(r"^DAG of "))
    expect(graph.get_by_role("button", name=re.compile(r"^node \S*second .*, chosen to run again$"))).to_be_visible()
    third = graph.get_by_role("button", name=re.compile(r"^node \S*third "))
    third.click(modifiers=["Control"])
    expect(bar.get_by_text("Chosen: n1, n2", exact=True)).to_be_visible()
    page.shots("graph-ctrl-click")
    third.click(modifiers=["Control"])
    expect(bar.get_by_text("Chosen: n1", exact=True)).to_be_visible()
    expect(page.get_by_role("complementary", name=re.compile(r"^Node "))).to_have_count(0)  # no panel opened
    page.get_by_role("tab", name="Nodes", exact=True).click()

    run_from.click()
    form = page.get_by_role("form", name=f"Run from n1 of {source}")
    expect(form).to_be_visible(timeout=10_000)
    expect(form.get_by_role("textbox", name="log", exact=True)).to_have_value(str(log))
    expect(form.get_by_role("textbox", name="seed", exact=True)).to_have_value("1")
    expect(form.get_by_role("checkbox", name="Overwrite cached outputs")).to_have_count(0)
    page.shots("rerun-form")
    form.get_by_role("button", name="Launch", exact=True).click()

    new_header = page.get_by_role("region", name=re.compile(rf"^Execution (?!{re.escape(source)}$)"))
    expect(new_header).to_be_visible(timeout=30_000)
    new_id = (new_header.get_attribute("aria-label") or "").removeprefix("Execution ")
    expect(new_header.get_by_role("status", name="Execution phase")).to_have_text("SUCCEEDED", timeout=60_000)
    expect(new_header).to_contain_text(re.compile(rf"Re-run of\s*{re.escape(source)} from n1"))

    rows = page.get_by_role("table", name="Nodes")
    expect(rows.locator("tr[data-path='n0']")).to_contain_text("REUSED")
    expect(rows.locator("tr[data-path='n1']")).to_contain_text("SUCCEEDED")
    expect(rows.locator("tr[data-path='n2']")).to_contain_text("SUCCEEDED")
    rows.locator("tr[data-path='n0']").click()
    panel = page.get_by_role("complementary", name="Node n0")
    expect(panel.get_by_role("note")).to_have_text(f"Reused from execution {source}, node n0")
    expect(panel.get_by_role("table", name="Outputs of n0")).to_contain_text("2")
    page.shots("rerun-succeeded-first-node-reused")

    # Only the second and third steps ran again; the result is the original's.
    assert log.read_text().split() == ["first", "second", "third", "second", "third"]
    with backend.remote() as remote:
        record = remote.fetch_execution(new_id).record
    assert record["rerun_of"]["execution_id"] == source
    assert record["outputs"]["o0"]["literal"] == 23

    # The link in the panel opens the original run.
    panel.get_by_role("button", name=source).click()
    expect(page.get_by_role("region", name=f"Execution {source}")).to_be_visible()

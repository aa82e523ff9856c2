"""Gate nodes in the lab: an execution that waits for a value or an approval is resumed from its view.

What a user does when a workflow stops to ask: open the execution, read the banner at the
top ("Waiting for input: title (str), times out in 9 min"), type the value into its form
(or Approve), and watch the node go on and the execution succeed with that value. A value
of the wrong type is refused by the field, before anything is sent; the backend refuses it
too, and its answer reaches the page through the lab. Headless Chromium against a real
JupyterLab and a real backend; the programs are tests/resources/gates/gate_programs.py and
tests/resources/lab/gates_lab.py.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser import open_execution, text_contrast
from lab_fixture import LabProcess
from playwright.sync_api import Locator, Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow
RESOURCES = Path(__file__).resolve().parents[1] / "resources"
AA_BODY_TEXT = 4.5


def _waiting(run: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not any(n.phase == "WAITING" for n in run.nodes()):
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {run.id} has no WAITING gate after {timeout:g} s: {run.refresh().phase}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def runs(backend: ServerProcess) -> Iterator[dict[str, str]]:
    """Three executions, each waiting at its gate: for a title (str), an approval, a count (int)."""
    with backend.remote() as remote:
        remote.register(str(RESOURCES / "gates" / "gate_programs.py"), version="v1")
        remote.register(str(RESOURCES / "lab" / "gates_lab.py"), version="v1")
        started = {
            "titled": remote.execute(remote.fetch_workflow("gate_programs.titled", "v1"), {"topic": "lakes"}),
            "reviewed": remote.execute(remote.fetch_workflow("gate_programs.reviewed", "v1"), {"topic": "dunes"}),
            "repeated": remote.execute(remote.fetch_workflow("gates_lab.repeated", "v1"), {"word": "echo"}),
        }
        for run in started.values():
            _waiting(run)
        try:
            yield {name: run.id for name, run in started.items()}
        finally:
            for run in started.values():
                if not run.refresh().is_done:
                    remote.abort(run.id)


def assert_readable(what: str, element: Locator) -> None:
    """Every piece of text in `element` has AA contrast against the background it is drawn on."""
    measured = text_contrast(element)
    assert measured, f"{what}: no text found to measure"
    low = [m for m in measured if m["ratio"] < AA_BODY_TEXT]
    assert not low, f"{what} is hard to read (WCAG AA needs {AA_BODY_TEXT}:1):\n" + "\n".join(
        f"  {m['ratio']:.2f}:1 for {m['text']!r}: text {m['color']} on {m['background']}" for m in low)


def succeeded_with(page: Page, view: Locator, output: str) -> None:
    expect(view.get_by_role("status", name="Execution phase")).to_have_text("SUCCEEDED", timeout=60_000)
    expect(view.get_by_role("table", name="Outputs")).to_contain_text(output)
    expect(page.get_by_role("region", name="Waiting gates")).to_have_count(0)


def test_a_title_typed_into_the_banner_resumes_the_execution(page: Page, runs: dict[str, str]) -> None:
    view = open_execution(page, runs["titled"])
    banner = view.get_by_role("region", name="Waiting gates")
    expect(banner).to_contain_text(re.compile(r"Waiting for input: title \(str\), times out in \d+ min"))
    expect(page.get_by_role("table", name="Nodes").locator("tr[data-path='n1']")).to_contain_text("WAITING")
    assert_readable("the waiting banner", banner)
    page.shots("waiting-banner")

    # The gate's node panel has the same form.
    banner.get_by_role("button", name="node n1").click()
    panel = page.get_by_role("complementary", name="Node n1")
    expect(panel.get_by_role("form", name="Set title")).to_be_visible()
    page.shots("waiting-node-panel")

    banner.get_by_role("textbox", name="title").fill("Lakes of the north")
    banner.get_by_role("button", name="Set title").click()
    succeeded_with(page, view, "Lakes of the north: a draft about lakes")
    expect(panel.get_by_role("form")).to_have_count(0)
    expect(panel.get_by_role("table", name="Outputs of n1")).to_contain_text("Lakes of the north")
    page.shots("title-set-succeeded")


def test_an_approval_asks_before_rejecting_and_approves_at_once(page: Page, runs: dict[str, str]) -> None:
    view = open_execution(page, runs["reviewed"])
    banner = view.get_by_role("region", name="Waiting gates")
    expect(banner).to_contain_text(re.compile(r"Waiting for approval: review, times out in \d+ min"))
    banner.get_by_role("button", name="Reject").click()
    question = banner.get_by_role("alertdialog", name="Reject review?")
    expect(question).to_contain_text("the nodes after it do not run")
    page.shots("reject-confirmation")
    question.get_by_role("button", name="Cancel").click()
    expect(question).to_have_count(0)

    # The graph shows the gate as a node of its own kind, in the WAITING phase.
    page.get_by_role("tab", name="Graph", exact=True).click()
    legend = page.get_by_role("list", name="Legend")
    expect(legend.locator(".plait-DagLegend-kind")).to_contain_text(["task", "gate"])
    expect(legend.locator(".plait-DagLegend-phase")).to_contain_text(["waiting", "succeeded"])
    expect(page.locator(".plait-DagNode.plait-DagKind-gate.plait-DagPhase-waiting")).to_be_visible(timeout=30_000)
    page.shots("waiting-graph")
    page.get_by_role("tab", name="Nodes", exact=True).click()

    banner.get_by_role("button", name="Approve").click()
    succeeded_with(page, view, "approved: a draft about dunes")


def test_a_value_of_the_wrong_type_is_refused_by_the_field(
        page: Page, lab: LabProcess, runs: dict[str, str]) -> None:
    execution = runs["repeated"]
    # The backend refuses it too, and says so through the lab: what the field shows when it gets there.
    refused = httpx.post(lab.url(f"plait/api/executions/{execution}/signals/times"), headers=lab.auth,
                         json={"value": "three"}, timeout=30)
    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["message"][:36]) == (
        "value", f"signal `times` of execution `{execution}` expects int"[:36])

    view = open_execution(page, execution)
    form = view.get_by_role("form", name="Set times")
    field = form.get_by_role("textbox", name="times")
    field.fill("three")
    form.get_by_role("button", name="Set times").click()
    expect(form).to_contain_text('times expects int: "three" is not an integer')
    expect(field).to_have_attribute("aria-invalid", "true")
    page.shots("wrong-type")
    expect(view.get_by_role("status", name="Execution phase")).to_have_text("RUNNING")

    field.fill("3")
    form.get_by_role("button", name="Set times").click()
    succeeded_with(page, view, "echo echo echo")

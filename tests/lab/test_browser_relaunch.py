"""Relaunching with changes in the lab, in headless Chromium against a real JupyterLab and a
real backend.

What a daily user does to run something again with one thing different: open a run,
choose "Relaunch with changes", find the launch form filled with that run's inputs and
labels (the first input focused, ready to type), switch launch plans without losing a
value they are still fixing, change one input and launch; the new run has the changed
input and keeps the others.
"""

from __future__ import annotations

import re

import plait
import pytest
from browser import open_execution
from playwright.sync_api import Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def source_run(backend: ServerProcess, resource) -> tuple[str, str]:
    """A finished run of `report` with inputs and a label other than the defaults: (its id,
    the workflow's name). `report` also gets a second launch plan, `report_floor5`."""
    pipeline = resource("lab/pipeline.py")
    floor5 = plait.LaunchPlan.get_or_create(pipeline.report, name="report_floor5", default_inputs={"floor": 5})
    with backend.remote() as remote:
        remote.register(pipeline.report, floor5)
        run = remote.execute(pipeline.report, {"values": [4, 5, 6], "label": "total", "floor": 1},
                             name="relaunch-source", labels={"team": "ml"}, wait=True, timeout=120)
    assert run.phase == "SUCCEEDED"
    return run.id, pipeline.report.name



def test_relaunch_with_changes_keeps_what_is_not_changed(
        page: Page, backend: ServerProcess, source_run: tuple[str, str]) -> None:
    source, workflow = source_run
    header = open_execution(page, source)
    header.get_by_role("button", name="Relaunch with changes").click()

    form = page.get_by_role("form", name=f"Launch {workflow}")
    expect(form.get_by_role("status").filter(has_text="Prefilled from execution")).to_have_text(
        f"Prefilled from execution {source}")
    values = form.get_by_role("textbox", name="values", exact=True)
    floor = form.get_by_role("textbox", name="floor", exact=True)
    label = form.get_by_role("textbox", name="label", exact=True)
    expect(values).to_have_value("[4,5,6]")
    expect(label).to_have_value("total")
    expect(floor).to_have_value("1")
    expect(form.get_by_role("textbox", name="Label 1 key")).to_have_value("team")
    expect(form.get_by_role("textbox", name="Label 1 value")).to_have_value("ml")
    expect(form.get_by_role("textbox", name="Execution name")).to_have_value("")
    expect(values).to_be_focused()  # the first input, ready to type
    page.shots("prefilled")

    # A wrong value stays, marked, when another launch plan is chosen.
    floor.fill("five")
    floor.blur()
    message = 'floor expects int: "five" is not an integer'
    expect(form.get_by_text(message)).to_be_visible()
    plans = form.get_by_role("combobox", name="Launch plan")
    plans.select_option("report_floor5")
    expect(floor).to_have_value("five")
    expect(floor).to_have_attribute("aria-invalid", "true")
    expect(form.get_by_text(message)).to_be_visible()
    page.shots("mark-kept-on-plan-change")

    floor.fill("1")
    expect(floor).not_to_have_attribute("aria-invalid", "true")
    plans.select_option(workflow)
    label.fill("mean")
    form.get_by_role("button", name="Launch", exact=True).click()

    new_header = page.get_by_role("region", name=re.compile(r"^Execution (?!relaunch-source$)"))
    expect(new_header).to_be_visible(timeout=30_000)
    new_id = (new_header.get_attribute("aria-label") or "").removeprefix("Execution ")
    expect(new_header.get_by_role("status", name="Execution phase")).to_have_text("SUCCEEDED", timeout=60_000)
    page.shots("relaunched")

    with backend.remote() as remote:
        record = remote.fetch_execution(new_id).record
    inputs = {k: v["literal"] for k, v in record["inputs"].items()}
    assert inputs == {"values": [4, 5, 6], "label": "mean", "floor": 1}
    assert record["settings"]["labels"] == {"team": "ml"}
    assert record["launch_plan"]["name"] == workflow

"""A launch plan's schedule in the lab, in headless Chromium against a real JupyterLab and a
real backend whose scheduler fires: activate a version and see its next times, see a tick
launched and a tick skipped by the concurrency policy, deactivate after confirming.

Two plans share one every-minute schedule; `nightly_lp` allows one execution at a time and
already has one running when the tick comes, so the tick is skipped there and launched for
`hourly_lp`. The test waits for one real tick (at most a minute).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow
TICK_MS = 100_000  # the next minute, and the time to launch and show it




def open_plan(page: Page, name: str) -> None:
    if not page.get_by_role("tablist", name="plait lists").is_visible():  # the tab toggles the sidebar
        page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Launch plans", exact=True).click()
    page.get_by_role("searchbox", name="Search launch plans").fill(name)
    page.get_by_role("button", name=f"Open launch plan {name}").click()


def test_activate_see_the_next_times_and_the_ticks_then_deactivate(
        page: Page, backend: ServerProcess, resource) -> None:
    module = resource("lab/scheduled.py")
    with backend.remote() as remote:
        remote.register(module.nightly_lp, module.hourly_lp)
        remote.activate_launch_plan("hourly_lp", remote.fetch_launch_plan("hourly_lp").version)
        # An execution of nightly_lp still running at the next tick: the tick is skipped there.
        running = remote.execute(remote.fetch_launch_plan("nightly_lp"), {"seconds": 90.0})

    open_plan(page, "nightly_lp")
    view = page.locator(".plait-LaunchPlanSchedule:visible")
    badge = view.get_by_role("status", name="Activation")
    expect(badge).to_have_text("inactive")
    expect(view.get_by_label("Schedule in words")).to_contain_text("every minute")
    expect(view.get_by_label("Next times").locator("li")).to_have_count(5)
    page.shots("inactive-next-times")
    view.get_by_role("button", name=re.compile(r"^Activate version ")).click()
    expect(badge).to_have_text(re.compile(r"^active: "))
    page.shots("activated")

    skipped = view.get_by_role("table", name="Ticks").get_by_text("skipped")
    expect(skipped).to_be_visible(timeout=TICK_MS)
    expect(view.get_by_text(re.compile(r"Concurrency limit \(1\) reached"))).to_be_visible()
    page.shots("tick-skipped")

    open_plan(page, "hourly_lp")
    other = page.locator(".plait-LaunchPlanSchedule:visible")
    launched = other.get_by_role("table", name="Ticks").get_by_text("launched")
    expect(launched).to_be_visible(timeout=TICK_MS)
    page.shots("tick-launched")

    open_plan(page, "nightly_lp")
    view = page.locator(".plait-LaunchPlanSchedule:visible")
    view.get_by_role("button", name="Deactivate").click()
    expect(view.get_by_role("alertdialog", name="Deactivate nightly_lp?")).to_be_visible()
    page.shots("deactivate-confirm")
    view.get_by_role("button", name="Confirm").click()
    expect(view.get_by_role("status", name="Activation")).to_have_text("inactive")
    page.shots("deactivated")
    with backend.remote() as remote:
        remote.abort(running.id)
        remote.deactivate_launch_plan("hourly_lp")

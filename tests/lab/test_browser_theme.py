"""The lab extension's error, warning and status elements are readable in JupyterLab Light and Dark.

For each theme a user can pick, the test opens what a user reads when something goes wrong or
needs attention: a failed execution's error banner, an aborted execution's banner, the
abort confirmation on a running execution, the banner of an execution waiting at a gate, the
executions list with its phase badges and the launch form with a bad value. It measures each element's text against its effective background
(WCAG contrast, AA: 4.5:1) and saves a screenshot named with the theme.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import httpx
import pytest
from browser import lab_page, open_executions, text_contrast
from lab_fixture import LabProcess
from playwright.sync_api import Browser, Locator, Page, expect
from server_fixture import ServerProcess

pytestmark = pytest.mark.slow
THEMES = ("JupyterLab Light", "JupyterLab Dark")
AA_BODY_TEXT = 4.5
THEME_SETTINGS = "lab/api/settings/@jupyterlab/apputils-extension:themes"



@pytest.fixture(scope="module")
def runs(backend: ServerProcess, resource, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """A failed, an aborted, a running, a waiting and a succeeded execution, and a workflow to launch."""
    steps, pipeline, gates = resource("lifecycle/steps.py"), resource("lab/pipeline.py"), resource("lab/gates_lab.py")
    flag = tmp_path_factory.mktemp("theme-runs") / "never-created"
    with backend.remote() as remote:
        remote.register(pipeline.report)
        failed = remote.execute(steps.two_steps, {"path": str(flag.with_suffix(".log")), "flag": str(flag)},
                                name="theme-failed", wait=True, timeout=120)
        assert failed.phase == "FAILED", failed.phase
        remote.execute(steps.slow, {"seconds": 0.1}, name="theme-succeeded", wait=True, timeout=120)
        aborted = remote.execute(steps.slow, {"seconds": 600.0}, name="theme-aborted")
        running = remote.execute(steps.slow, {"seconds": 600.0}, name="theme-running")
        waiting = remote.execute(gates.repeated, {"word": "echo"}, name="theme-waiting")
        for run in (aborted, running):
            _wait_for(lambda run=run: any(n.phase == "RUNNING" for n in run.nodes()))
        _wait_for(lambda: any(n.phase == "WAITING" for n in waiting.nodes()))
        remote.abort(aborted.id)
        assert aborted.wait(timeout=60).phase == "ABORTED"
        try:
            yield {"workflow": pipeline.report.name}
        finally:
            remote.abort(running.id)  # the backend then stops at once
            remote.abort(waiting.id)


def _wait_for(predicate, timeout: float = 60.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the execution did not start running in time")
        time.sleep(0.2)


@pytest.fixture(params=THEMES)
def theme(request: pytest.FixtureRequest, lab: LabProcess) -> str:
    """The theme this test runs in, chosen in the lab's settings as a user's choice is kept."""
    name = request.param
    answer = httpx.put(lab.url(THEME_SETTINGS), headers=lab.auth, timeout=30,
                       json={"raw": json.dumps({"theme": name})})
    assert answer.status_code < 300, f"could not choose the theme {name}: {answer.status_code} {answer.text}"
    return name


@pytest.fixture
def page(browser: Browser, lab: LabProcess, theme: str, request: pytest.FixtureRequest) -> Iterator[Page]:
    def in_theme(page: Page) -> None:
        expect(page.locator("body")).to_have_attribute("data-jp-theme-name", theme, timeout=30_000)

    yield from lab_page(browser, lab, request.node.name, ready=in_theme)


def slug(theme: str) -> str:
    return theme.split()[-1].lower()


def assert_readable(what: str, element: Locator, theme: str) -> None:
    """Every piece of text in `element` has AA contrast against the background it is drawn on."""
    expect(element).to_be_visible()
    deadline = time.monotonic() + 5
    while not (measured := text_contrast(element)) and time.monotonic() < deadline:
        time.sleep(0.2)  # a list that polls may be drawing the row again
    assert measured, f"{what} ({theme}): no text found to measure"
    low = [m for m in measured if m["ratio"] < AA_BODY_TEXT]
    assert not low, f"{what} is hard to read in {theme} (WCAG AA needs {AA_BODY_TEXT}:1):\n" + "\n".join(
        f"  {m['ratio']:.2f}:1 for {m['text']!r} ({m['where']}): text {m['color']} on {m['background']}"
        for m in low)


def execution_row(page: Page, name: str, phase: str) -> Locator:
    return page.get_by_role("button", name=re.compile(rf"^Open execution {name}, {phase}\b"))


def open_execution(page: Page, name: str, phase: str) -> Locator:
    open_executions(page)
    page.get_by_role("searchbox", name="Filter executions by name").fill(name)
    execution_row(page, name, phase).click()
    view = page.get_by_role("region", name=re.compile(r"^Execution "))
    expect(view.get_by_role("status", name="Execution phase")).to_have_text(phase, timeout=30_000)
    return view


def test_a_failed_executions_error_is_readable(page: Page, theme: str, runs) -> None:
    view = open_execution(page, "theme-failed", "FAILED")
    banner = view.get_by_role("alert")
    expect(banner).to_contain_text("the input data is not there yet")
    page.shots(f"{slug(theme)}-failed-execution")
    assert_readable("the error banner of a failed execution", banner, theme)
    assert_readable("the FAILED phase badge", view.get_by_role("status", name="Execution phase"), theme)


def test_an_aborted_executions_banner_is_readable(page: Page, theme: str, runs) -> None:
    view = open_execution(page, "theme-aborted", "ABORTED")
    banner = view.get_by_role("status", name="Aborted")
    expect(banner).to_contain_text("by request")
    page.shots(f"{slug(theme)}-aborted-execution")
    assert_readable("the banner of an aborted execution", banner, theme)
    assert_readable("the ABORTED phase badge", view.get_by_role("status", name="Execution phase"), theme)


def test_the_abort_confirmation_is_readable_and_a_disabled_abort_looks_disabled(
        page: Page, theme: str, runs) -> None:
    view = open_execution(page, "theme-running", "RUNNING")
    abort = view.get_by_role("button", name="Abort", exact=True)
    enabled = looks(abort)
    assert enabled["opacity"] == 1 and enabled["cursor"] == "pointer", enabled
    abort.click()
    confirmation = view.get_by_role("alertdialog", name=re.compile(r"^Abort theme-running"))
    expect(confirmation).to_be_visible()
    page.shots(f"{slug(theme)}-abort-confirmation")
    assert_readable("the abort confirmation", confirmation, theme)
    assert_readable("the RUNNING phase badge", view.get_by_role("status", name="Execution phase"), theme)
    confirmation.get_by_role("button", name="Cancel").click()
    expect(confirmation).to_be_hidden()

    page.get_by_role("searchbox", name="Filter executions by name").fill("theme-failed")
    execution_row(page, "theme-failed", "FAILED").click()
    view = page.get_by_role("region", name=re.compile(r"^Execution theme-failed"))
    abort = view.get_by_role("button", name="Abort", exact=True)
    expect(abort).to_be_disabled()
    disabled = looks(abort)
    abort.hover(force=True)
    hovered = looks(abort)
    page.shots(f"{slug(theme)}-abort-disabled")
    assert disabled["opacity"] <= 0.6 and disabled["cursor"] == "not-allowed", (
        f"a disabled Abort button should look disabled in {theme}: enabled {enabled}, disabled {disabled}")
    assert hovered["background"] == disabled["background"], (
        f"a disabled Abort button should not react to the pointer in {theme}: {disabled} -> {hovered}")


def test_a_waiting_gates_banner_is_readable(page: Page, theme: str, runs) -> None:
    view = open_execution(page, "theme-waiting", "RUNNING")
    banner = view.get_by_role("region", name="Waiting gates")
    expect(banner).to_contain_text("Waiting for input: times (int)")
    badge = page.get_by_role("table", name="Nodes").get_by_text("WAITING", exact=True)
    page.shots(f"{slug(theme)}-waiting-gate")
    assert_readable("the banner of an execution waiting at a gate", banner, theme)
    assert_readable("the WAITING phase badge", badge, theme)


def test_the_executions_phase_badges_are_readable(page: Page, theme: str, runs) -> None:
    open_executions(page)
    rows = {(name, phase): execution_row(page, name, phase)
            for name, phase in (("theme-failed", "FAILED"), ("theme-succeeded", "SUCCEEDED"),
                                ("theme-aborted", "ABORTED"), ("theme-running", "RUNNING"))}
    for row in rows.values():
        expect(row).to_be_visible(timeout=30_000)
    page.shots(f"{slug(theme)}-executions-list")
    for (name, phase), row in rows.items():
        assert_readable(f"the {phase} phase badge in the executions list",
                        row.locator(".plait-Badge"), theme)
        assert_readable(f"the row of {name} in the executions list", row, theme)


def test_a_launch_forms_field_error_is_readable(page: Page, theme: str, runs) -> None:
    page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Workflows", exact=True).click()
    page.get_by_role("searchbox", name="Search workflows").fill(runs["workflow"].rsplit(".", 1)[-1])
    page.get_by_role("button", name=f"Open workflow {runs['workflow']}").click()
    page.get_by_role("button", name="Launch", exact=True).click()
    form = page.locator(".plait-View:visible")
    values = form.get_by_role("textbox", name="values", exact=True)
    values.fill("[3, x]")
    form.get_by_role("textbox", name="label", exact=True).click()  # leaving the field checks it
    expect(values).to_have_attribute("aria-invalid", "true")
    message = form.get_by_text(re.compile(r"values expects list\[int\]"))
    expect(message).to_be_visible()
    page.shots(f"{slug(theme)}-launch-form-field-error")
    assert_readable("the launch form's message by a bad value", message, theme)
    assert_readable("the launch form's required and type marks",
                    form.locator(".plait-LaunchForm-fieldHead").first, theme)


LOOKS = """el => { const s = getComputedStyle(el);
  return {opacity: Number(s.opacity), cursor: s.cursor, background: s.backgroundColor}; }"""


def looks(button: Locator) -> dict:
    return button.evaluate(LOOKS)


def test_the_workspaces_and_apps_tabs_are_readable(page: Page, theme: str, backend: ServerProcess) -> None:
    with httpx.Client(base_url=backend.url, headers={"Authorization": f"Bearer {backend.token}"}) as api:
        if api.get("/api/v1/workspaces/theme-ws").status_code == 404:
            api.post("/api/v1/workspaces", json={"spec": {"name": "theme-ws"}, "start": False})
    page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Workspaces", exact=True).click()
    row = page.locator(".plait-WorkspaceRow").filter(has_text="theme-ws")
    expect(row).to_be_visible(timeout=30_000)
    page.shots(f"{slug(theme)}-workspaces-tab")
    assert_readable("the STOPPED badge of a workspace", row.locator(".plait-Badge"), theme)
    assert_readable("a workspace's row", row, theme)
    page.get_by_role("tab", name="Apps", exact=True).click()
    expect(page.get_by_text("plait deploy apps FILE NAME")).to_be_visible(timeout=30_000)  # no apps yet
    page.shots(f"{slug(theme)}-apps-tab")
    assert_readable("the Apps tab", page.locator(".plait-Sidebar:visible").first, theme)

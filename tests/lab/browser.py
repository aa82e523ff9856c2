"""Headless Chromium for the lab's browser tests, driven by Playwright.

Playwright drives the system's Chromium (`scripts/ensure-chromium.sh`, run by
`make test`, installs it); it never downloads a browser. Screenshots go to
`$PLAIT_SCREENSHOTS` (`make test` sets it and prints the folder at the end).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Locator, Page, sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]
SCREENSHOTS = Path(os.environ.get("PLAIT_SCREENSHOTS")
                   or Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots")


def chromium_path() -> str:
    found = os.environ.get("PLAIT_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("no Chromium found: run `sh scripts/ensure-chromium.sh` (make test does) "
                           "or set PLAIT_CHROMIUM to a Chromium executable")
    return found


def launch() -> Iterator[Browser]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def lab_page(browser: Browser, lab: Any, test: str, *, ready: Any = None) -> Iterator[Page]:
    """A page of a fresh browser context on the lab's default layout (`?reset`), with `page.shots`
    for screenshots named after `test`; `ready(page)` runs once the lab is up. On the way out
    the context closes, and errors the page raised in plait's code fail the test."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(lab.url(f"lab?reset&token={lab.token}"))
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    if ready is not None:
        ready(page)
    page.shots = Shots(page, test)  # type: ignore[attr-defined]
    yield page
    context.close()
    assert not [e for e in errors if "plait" in e.lower()], f"errors in the page: {errors}"


def open_executions(page: Page) -> None:
    """The sidebar's Executions tab (opening the plait sidebar first when it is closed)."""
    if not page.get_by_role("tablist", name="plait lists").is_visible():  # the tab toggles the sidebar
        page.get_by_role("tab", name="plait: workflows and executions").click()
    page.get_by_role("tab", name="Executions", exact=True).click()


def open_execution(page: Page, execution_id: str) -> Locator:
    """Find an execution in the sidebar by its id and open it; its header, once shown."""
    open_executions(page)
    page.get_by_role("searchbox", name="Filter executions by name").fill(execution_id)
    page.locator(f".plait-Sidebar [data-plait-execution='{execution_id}']").click()
    view = page.get_by_role("region", name=f"Execution {execution_id}")
    view.wait_for(timeout=30_000)
    return view


class Shots:
    """Numbered screenshots of one test: `<test>-01-<what>.png`."""

    def __init__(self, page: Page, test: str) -> None:
        self.page, self.test, self.count = page, re.sub(r"[^A-Za-z0-9_]+", "_", test), 0
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, what: str) -> Path:
        self.count += 1
        path = SCREENSHOTS / f"{self.test}-{self.count:02d}-{what}.png"
        self.page.screenshot(path=str(path))
        return path


# What `text_contrast` runs in the page: for the element and each element inside it that holds
# text of its own (visible, not in a disabled control: WCAG exempts inactive controls), the
# WCAG contrast ratio of its computed `color` against the colour it is drawn on: the
# backgrounds of it and its ancestors, composited from the first opaque one down (white, the
# page's canvas, when none is opaque). A 1x1 canvas turns any CSS colour into sRGB bytes.
TEXT_CONTRAST = """root => {
  const ctx = document.createElement('canvas').getContext('2d', {willReadFrequently: true});
  const rgba = css => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = 'transparent';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = ctx.getImageData(0, 0, 1, 1).data;
    return [r, g, b, a / 255];
  };
  const over = (top, under) => [0, 1, 2].map(i => top[i] * top[3] + under[i] * (1 - top[3])).concat(1);
  const background = el => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = rgba(getComputedStyle(n).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reverse().reduce((under, top) => over(top, under), [255, 255, 255, 1]);
  };
  const luminance = c => c.slice(0, 3).map(v => v / 255)
    .map(v => v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4))
    .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const css = c => `rgb(${c.slice(0, 3).map(Math.round).join(', ')})`;
  const owns = el => [...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const where = el => el.tagName.toLowerCase() +
    [...el.classList].filter(c => c.startsWith('plait-') || c.startsWith('jp-')).map(c => '.' + c).join('');
  return [root, ...root.querySelectorAll('*')]
    .filter(el => owns(el) && el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
    .filter(el => !el.closest(':disabled'))
    .map(el => {
      const bg = background(el);
      const fg = over(rgba(getComputedStyle(el).color), bg);
      const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
      return {text: el.textContent.trim().slice(0, 60), where: where(el), color: css(fg), background: css(bg),
              ratio: (hi + 0.05) / (lo + 0.05)};
    });
}"""


def text_contrast(element: Locator) -> list[dict[str, Any]]:
    """WCAG contrast of each piece of text in `element`: `{text, where, color, background, ratio}`."""
    return list(element.evaluate(TEXT_CONTRAST))

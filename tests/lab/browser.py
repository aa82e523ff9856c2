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

from playwright.sync_api import Browser, Page, sync_playwright

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

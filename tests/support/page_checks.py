"""A walk through pages in a real browser: each page is checked with axe-core, and those the
docs show are saved as screenshots (``<name>-<width>.png``).

The screenshots go to $CALDAV_BRIDGE_SCREENSHOTS (`make screenshots` sets it to
docs/screenshots), else to the test's temporary folder, so ordinary test runs leave the docs
alone.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.support.browser import axe_violations, blocking, describe, focused

SCREENSHOTS_ENV = "CALDAV_BRIDGE_SCREENSHOTS"
SIDEWAYS = "document.documentElement.scrollWidth > document.documentElement.clientWidth"
# Marks the focused element; true if it was marked already (the focus went round the page).
SEEN_BEFORE = """() => {
    const el = document.activeElement;
    const seen = el.hasAttribute("data-tabbed");
    el.setAttribute("data-tabbed", "");
    return seen;
}"""


def screenshot_folder(default: Path) -> Path:
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or default)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


class PageChecks:
    """Checks each page of a walk with axe and keeps the screenshots of the ``shown`` ones."""

    def __init__(
        self,
        page: Page,
        width: int,
        folder: Path,
        shown: Collection[str],
        *,
        keyboard: bool = False,
    ) -> None:
        self.page = page
        self.width = width
        self.folder = folder
        self.shown = shown
        self.keyboard = keyboard  # also Tab through each page, checking the focus rings
        self.violations: dict[str, list[dict[str, Any]]] = {}
        self.shots: list[Path] = []
        self.sideways: list[str] = []  # pages wider than the window (WCAG 1.4.10, reflow)
        self.no_ring: dict[str, list[str]] = {}  # focused elements without a visible ring

    def check(self, name: str, heading: str) -> None:
        """The page shows ``heading`` as its h1; run axe on it; photograph it if shown."""
        expect(self.page.locator("h1")).to_have_text(heading)
        self.page.wait_for_load_state("load")
        self.violations[name] = axe_violations(self.page)
        if self.page.evaluate(SIDEWAYS):
            self.sideways.append(name)
        if name in self.shown:
            path = self.folder / f"{name}-{self.width}.png"
            self.page.screenshot(path=str(path), full_page=True, animations="disabled")
            self.shots.append(path)
        if self.keyboard:
            missing = tab_through(self.page)
            if missing:
                self.no_ring[name] = missing

    def report(self) -> str:
        """Every violation, of every impact (for the log)."""
        return "\n".join(describe(name, found) for name, found in self.violations.items() if found)

    def serious(self) -> str:
        """The serious and critical violations, one line each; "" when there is none."""
        found = {name: blocking(violations) for name, violations in self.violations.items()}
        return "\n".join(describe(name, v) for name, v in found.items() if v)

    def expected_shots(self, names: Collection[str]) -> list[str]:
        return sorted(f"{name}-{self.width}.png" for name in names)

    def shot_names(self) -> list[str]:
        return sorted(path.name for path in self.shots)


def tab_through(page: Page, max_presses: int = 200) -> list[str]:
    """Press Tab from where the focus is to the end of the page; the elements reached that
    showed no focus ring (WCAG 2.4.7), as "tag#id"."""
    missing: list[str] = []
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        now = focused(page)
        if now["tag"] == "body" or page.evaluate(SEEN_BEFORE):
            return missing  # past the last element, or round again
        if not now["ring"]:
            missing.append(f"{now['tag']}#{now['id']}")
    raise AssertionError(f"the focus did not leave {page.url} within {max_presses} Tab presses")

"""Fixtures of the browser tests: one chromium for the session, a served demo practice per test.

The server is the real `caldav-bridge serve` (a process, on a free loopback port) over the
demo configuration, initialised with `caldav-bridge init --demo`; its clock is real, so the
tests choose their day from today's date (`tests.support.browser.bookable_day`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.browser import TIMEOUT_MS, LivePractice, launch_chromium, served_demo


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # expect() waits 5 s by default: too short for a page load on two busy cores.
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture
def demo(practice_toml: Path) -> Iterator[LivePractice]:
    """The demo practice served on SQLite."""
    with served_demo(practice_toml, {DATABASE_URL_ENV: ""}) as live:
        yield live

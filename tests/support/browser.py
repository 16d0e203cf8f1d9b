"""Playwright driving Debian's chromium against the real `caldav-bridge serve` on loopback.

No browser is downloaded: Playwright launches `/usr/bin/chromium` (Debian's `chromium`
package). When it is missing the browser tests fail with a line that says what to install;
they are never skipped.

Helpers here read and do what a patient does: pick a day in the week view (moving week by
week), tab to an element, check the French dates on a page, and run axe-core (the copy that
the `axe-playwright-python` package ships) on the page as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.resources import files
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, Playwright, expect

from tests.support.serve import run_cli, serving

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    # The network is closed: no update checks, no sync, no first-run pages.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
TIMEOUT_MS = 30_000  # one action or assertion (2 busy cores)
NAVIGATION_TIMEOUT_MS = 60_000
PHONE, DESKTOP = 375, 1280
HEIGHTS = {PHONE: 812, DESKTOP: 800}

# The demo practice (config/practice.toml): anne works Monday to Friday and is away over the
# holidays; the pages must allow a change until 24 hours before, so the day is 3 days ahead.
ANNE_DAYS = frozenset(range(5))
ANNE_HOLIDAYS = (date(2026, 12, 24), date(2027, 1, 3))
DAYS_AHEAD = 3

WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


def launch_chromium(playwright: Playwright) -> Browser:
    assert CHROMIUM.exists(), (
        f"{CHROMIUM} is missing: the browser tests need Debian's chromium "
        "(apt-get install chromium)"
    )
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), timeout=NAVIGATION_TIMEOUT_MS
    )


@contextmanager
def browser_page(browser: Browser, width: int = DESKTOP) -> Iterator[Page]:
    """A fresh visitor (no cookies) in French-speaking Switzerland, ``width`` pixels wide."""
    context = browser.new_context(
        viewport={"width": width, "height": HEIGHTS.get(width, 800)},
        locale="fr-CH",
        timezone_id="Europe/Zurich",
        accept_downloads=False,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(NAVIGATION_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@dataclass(frozen=True)
class LivePractice:
    """The demo practice served by `caldav-bridge serve` on loopback."""

    base_url: str
    passwords: dict[str, str]  # the demo therapists' and the admin's, as `init --demo` printed

    @property
    def dav_url(self) -> str:
        return f"{self.base_url}/dav/"


@contextmanager
def served_demo(config: Path, env: Mapping[str, str]) -> Iterator[LivePractice]:
    """`caldav-bridge init --demo`, then `caldav-bridge serve`, as an operator runs them."""
    init = run_cli("--config", str(config), "init", "--demo", env=env)
    assert init.returncode == 0, init.stderr
    passwords = dict(re.findall(r"(?m)^(?:Demo|Admin) login: (\S+) / (\S+)", init.stdout))
    assert set(passwords) >= {"admin", "anne", "marc"}, init.stdout
    with serving(config, env) as base_url:
        yield LivePractice(base_url, passwords)


def bookable_day(today: date) -> date:
    """The first day at least 3 days after ``today`` on which anne works."""
    day = today + timedelta(days=DAYS_AHEAD)
    while day.weekday() not in ANNE_DAYS or ANNE_HOLIDAYS[0] <= day <= ANNE_HOLIDAYS[1]:
        day += timedelta(days=1)
    return day


def french_day(day: date) -> str:
    """ "lundi 30 novembre 2026", written out independently of the app's Babel formats."""
    return f"{WEEKDAYS_FR[day.weekday()]} {day.day} {MONTHS_FR[day.month - 1]} {day.year}"


def hhmm(moment: datetime) -> str:
    return moment.strftime("%H:%M")


def text(page: Page, selector: str) -> str:
    """The visible text of one element, whitespace collapsed."""
    return re.sub(r"\s+", " ", page.locator(selector).inner_text()).strip()


def open_day(page: Page, day: date, max_weeks: int = 16) -> None:
    """In a week view, move to the week of ``day`` with "next week" and open that day."""
    title = page.locator("#week-title")
    title.wait_for()
    target = page.locator(f"a#day-{day.isoformat()}")
    for _ in range(max_weeks):
        if target.count():
            break
        next_week(page, lambda: page.locator("#next-week").click())
    else:
        raise AssertionError(f"{day} is not offered within {max_weeks} weeks")
    target.click()
    expect(page.locator(f"a#day-{day.isoformat()}[aria-current=date]")).to_be_visible()


def next_week(page: Page, go: Callable[[], None]) -> None:
    """Follow the "next week" link with ``go`` and wait for the next week's view."""
    title = page.locator("#week-title")
    before = title.inner_text()
    go()
    expect(title).not_to_have_text(before)


def slot_starts(page: Page) -> list[datetime]:
    """The starts of the slot buttons on the page, as the instants they submit."""
    values = page.locator("button.slot").evaluate_all("buttons => buttons.map(b => b.value)")
    return [datetime.fromisoformat(value) for value in values]


def slot_button(page: Page, start: datetime) -> str:
    return f"button.slot[value='{start.isoformat()}']"


ZOE = {
    "Prénom": "Zoë",
    "Nom": "Müller-Ødegård",
    "Adresse e-mail": "zoe@example.org",
    "Téléphone mobile": "079 123 45 67",
}


def fill_details(page: Page, **changes: str) -> None:
    """Fill the details form as Zoë would, finding each field by its French label;
    ``changes`` replace values by label key (``email="zoe@"``), and ``consent=""`` leaves the
    consent box unticked."""
    keys = {"first_name": "Prénom", "last_name": "Nom", "email": "Adresse e-mail"}
    keys["phone"] = "Téléphone mobile"
    values = {**ZOE, **{keys[k]: v for k, v in changes.items() if k in keys}}
    for label, value in values.items():
        page.get_by_label(label, exact=True).fill(value)
    consent = page.get_by_label("J’accepte que le cabinet conserve ces données", exact=False)
    consent.set_checked(changes.get("consent", "yes") == "yes")


def summary(page: Page, prefix: str = "appointment") -> dict[str, str]:
    """The appointment as its summary shows it (date, time, duration, service, ...)."""
    fields = ("date", "time", "duration", "service", "therapist", "place", "patient")
    return {name: text(page, f"#{prefix}-{name}") for name in fields}


def focused(page: Page) -> dict[str, Any]:
    """The focused element: its id, tag, and whether a focus ring is drawn around it."""
    result: dict[str, Any] = page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = el ? getComputedStyle(el) : null;
            return {
                id: el ? el.id : "",
                tag: el ? el.tagName.toLowerCase() : "",
                ring: !!style && style.outlineStyle !== "none"
                    && parseFloat(style.outlineWidth) >= 2,
            };
        }"""
    )
    return result


def tab_to(page: Page, element_id: str, max_presses: int = 60) -> int:
    """Press Tab until the element ``element_id`` has the focus; the number of presses.

    Every element reached on the way must show a focus ring (WCAG 2.4.7). Waits for the
    page's load first: a text already in the DOM does not mean its stylesheet applies yet."""
    page.wait_for_load_state("load")
    for presses in range(1, max_presses + 1):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["ring"], f"no visible focus on {now['tag']}#{now['id']} ({page.url})"
        if now["id"] == element_id:
            return presses
    raise AssertionError(f"#{element_id} not reached with {max_presses} Tab presses ({page.url})")


# -- axe-core ----------------------------------------------------------------------------------

# axe's default rules (WCAG 2.0-2.1 A/AA and best practices), and WCAG 2.2's minimum target
# size (2.5.8), which axe leaves off by default: patients book on phones.
AXE_OPTIONS = {"resultTypes": ["violations"], "rules": {"target-size": {"enabled": True}}}
AXE_SCRIPT = files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now."""
    page.evaluate(AXE_SCRIPT)
    results: dict[str, Any] = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)
    violations: list[dict[str, Any]] = results["violations"]
    return violations


def blocking(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v.get("impact") in BLOCKING_IMPACTS]


def describe(page_name: str, violations: list[dict[str, Any]]) -> str:
    """One line per violation: page, rule id, impact, and the CSS targets of its nodes."""
    lines = []
    for violation in violations:
        targets = [json.dumps(node["target"]) for node in violation["nodes"]]
        lines.append(
            f"{page_name}: {violation['id']} ({violation['impact']}) "
            f"{violation['help']}: {', '.join(targets)}"
        )
    return "\n".join(lines)

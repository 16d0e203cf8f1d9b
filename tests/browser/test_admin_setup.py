"""An admin sets up a new therapist in a real browser, in French, and her calendar app and the
booking page follow.

The admin logs in, creates Claire (details, calendar name and colour), gives her weekly hours
with a break and a closed day, creates a fixed 75-minute service she offers, previews her
Tuesday on the hours page (the documented fixed chain 14:00, 15:15, 16:30, 17:45) and sets her
password. Then, outside the browser, the real `caldav` client logs in as Claire, discovers her
principal from the root URL and finds her appointments calendar with that name and colour; the
public booking API offers the same four slots that the panel previewed; and practice.toml holds
Claire and the service, every comment of the demo file still above what it describes.

Chromium (Playwright) drives the real `caldav-bridge serve` on loopback (SQLite) over the demo
configuration; its clock is real, so the Tuesday is chosen from today's date.
"""

from __future__ import annotations

import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

from caldav.davclient import DAVClient
from caldav.elements import ical
from playwright.sync_api import Browser, Page, expect

from tests.support.browser import LivePractice, browser_page, french_day, hhmm
from tests.support.calendars import ZURICH
from tests.support.online_bookings import free_starts

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
CLAIRE = {
    "login": "claire",
    "name": "Claire Dubois",
    "email": "claire@cabinet-du-lac.example",
    "phone": "079 555 01 03",
    "calendar_name": "Séances de Claire",
    "color": "#aa3366",
}
SERVICE = "bilan-75"
NAMES = {
    "fr": "Bilan (75 min)",
    "de": "Standortbestimmung (75 Min.)",
    "it": "Bilancio (75 min)",
    "en": "Assessment (75 min)",
}
# Tuesday 14:00-18:00, a fixed 75-minute service: the documented chain (DESIGN.md section 6).
CHAIN = ["14:00", "15:15", "16:30", "17:45"]
PASSWORD = "lac-claire-2026"


def first_tuesday_after(today: date) -> date:
    """The first Tuesday at least two days after ``today``: beyond the two hours' minimum
    notice whatever the time now, well within the 90-day horizon. A Tuesday is never a day on
    which Europe/Zurich changes its clocks (always a Sunday)."""
    day = today + timedelta(days=2)
    return day + timedelta(days=(1 - day.weekday()) % 7)


def log_in(page: Page, live: LivePractice) -> None:
    page.goto(f"{live.base_url}/admin/login")
    expect(page.locator("h1")).to_have_text("Connexion administrateur")
    page.get_by_label("Identifiant", exact=True).fill("admin")
    page.get_by_label("Mot de passe", exact=True).fill(live.passwords["admin"])
    page.locator("#login-submit").click()
    expect(page.locator("#logged-in-as")).to_have_text("admin")
    expect(page.locator("h1")).to_have_text("Cabinet")


def success(page: Page, message: str) -> None:
    expect(page.locator(".flash-success")).to_have_text(message)


def create_claire(page: Page) -> None:
    page.locator("#nav-therapists").click()
    expect(page.locator("#therapists tbody tr")).to_have_count(2)  # anne and marc
    page.locator("#new-therapist").click()
    expect(page.locator("h1")).to_have_text("Nouveau ou nouvelle thérapeute")
    for field in ("login", "name", "email", "phone", "calendar_name", "color"):
        page.locator(f"#{field}").fill(CLAIRE[field])
    page.get_by_role("combobox", name="Langue").select_option(label="Deutsch")
    page.get_by_role("button", name="Créer le ou la thérapeute").click()
    success(
        page,
        "Le compte du ou de la thérapeute est créé, avec son identifiant et son calendrier. "
        "Définissez son mot de passe ci-dessous, puis ses horaires.",
    )
    expect(page.locator("h1")).to_have_text("Claire Dubois (claire)")
    expect(page.locator("#status")).to_have_text("actif")
    page.locator("#details-link").click()
    expect(page.locator("h1")).to_have_text("Détails · Claire Dubois")
    expect(page.locator("#phone")).to_have_value("+41795550103")  # as SMS need it
    expect(page.locator("#language")).to_have_value("de")
    expect(page.locator("#calendar_name")).to_have_value(CLAIRE["calendar_name"])
    expect(page.locator("#color")).to_have_value("#aa3366")
    page.locator("#nav-therapists").click()
    row = page.locator("#therapist-claire")
    expect(row.locator("td")).to_have_text(["Claire Dubois", "claire", "non défini", "actif"])


def set_hours(page: Page, closed: date) -> None:
    """Tuesday afternoons, Thursday with a lunch break, and ``closed`` off for a course."""
    page.locator("#therapist-claire a").click()
    page.locator("#hours-link").click()
    expect(page.locator("h1")).to_have_text("Horaires · Claire Dubois")
    expect(page.locator("#no-services")).to_have_text(
        "Ce thérapeute ne propose aucune prestation active."
    )
    page.get_by_label("Mardi", exact=True).fill("14:00-18:00")
    page.get_by_label("Jeudi", exact=True).fill("08:00-12:00, 14:00-18:00")
    page.locator("#exc-0-from").fill(closed.isoformat())
    page.locator("#exc-0-note").fill("Formation continue")
    page.locator("#save").click()
    success(page, "Les horaires sont enregistrés.")
    expect(page.locator("#tuesday")).to_have_value("14:00-18:00")
    expect(page.locator("#thursday")).to_have_value("08:00-12:00, 14:00-18:00")
    for day in ("monday", "wednesday", "friday", "saturday", "sunday"):
        expect(page.locator(f"#{day}")).to_have_value("")
    expect(page.locator("#exc-0-from")).to_have_value(closed.isoformat())
    expect(page.locator("#exc-0-hours")).to_have_value("")  # closed all day
    expect(page.locator("#exc-0-note")).to_have_value("Formation continue")


def create_service(page: Page) -> None:
    page.locator("#nav-services").click()
    expect(page.locator("h1")).to_have_text("Prestations")
    page.locator("#new-service").click()
    expect(page.locator("h1")).to_have_text("Nouvelle prestation")
    page.locator("#id").fill(SERVICE)
    for language, name in NAMES.items():
        page.locator(f"#name-{language}").fill(name)
    page.get_by_label("Durée (minutes)").fill("75")
    page.locator("#availability-fixed").check()
    page.get_by_label("Claire Dubois").check()
    page.locator("#save").click()
    success(page, "La prestation est créée.")
    expect(page.locator("h1")).to_have_text(f"Bilan (75 min) ({SERVICE})")
    expect(page.locator("#duration_minutes")).to_have_value("75")
    expect(page.locator("#availability-fixed")).to_be_checked()
    expect(page.locator("#therapist-claire")).to_be_checked()
    expect(page.locator("#therapist-anne")).not_to_be_checked()
    page.locator("#back-to-services").click()
    row = page.locator(f"#service-{SERVICE} td")
    expect(row).to_have_text(
        ["Bilan (75 min)", SERVICE, "75 min", "fixes", "Claire Dubois", "actif"]
    )


def preview(page: Page, day: date) -> None:
    """On Claire's hours page, show the slots offered on ``day``."""
    page.locator("#nav-hours").click()
    page.get_by_role("link", name="Claire Dubois").click()
    expect(page.locator("h1")).to_have_text("Horaires · Claire Dubois")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.locator("#preview-submit").click()
    expect(page.locator("#preview-title")).to_have_text(f"Créneaux proposés le {french_day(day)}")
    expect(page.get_by_role("heading", name="Bilan (75 min)")).to_be_visible()


def set_password(page: Page) -> None:
    page.locator("#nav-therapists").click()
    page.locator("#therapist-claire a").click()
    page.get_by_label("Nouveau mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Nouveau mot de passe, une seconde fois", exact=True).fill(PASSWORD)
    page.locator("#set-password").click()
    success(
        page,
        "Le mot de passe est défini. Il s’applique immédiatement aux applications de calendrier.",
    )
    page.locator("#nav-therapists").click()
    expect(page.locator("#therapist-claire td").nth(2)).to_have_text("défini")


def claires_calendar(live: LivePractice) -> tuple[str, str, str, str]:
    """What Claire's calendar app finds from the server's root: her principal, and the URL,
    display name and colour of her calendar."""
    with DAVClient(url=live.base_url + "/", username="claire", password=PASSWORD) as client:
        principal = client.principal()  # type: ignore[no-untyped-call]
        (calendar,) = principal.calendars()
        colour = calendar.get_property(ical.CalendarColor())
        return str(principal.url), str(calendar.url), calendar.get_display_name(), str(colour)


def api_times(live: LivePractice, day: date) -> list[str]:
    starts = free_starts(live.base_url, day, SERVICE, therapist="claire")
    return [hhmm(datetime.fromisoformat(start).astimezone(ZURICH)) for start in starts]


def comment_blocks(text: str) -> list[tuple[str, str]]:
    """Each run of comment lines with the first line after it that is neither a comment nor
    blank: what the comment introduces."""
    blocks: list[tuple[str, str]] = []
    block: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            block.append(line)
        elif line.strip() and block:
            blocks.append(("\n".join(block), line))
            block = []
    return blocks


def test_an_admin_sets_up_a_therapist_whose_calendar_and_slots_follow(
    browser: Browser, demo: LivePractice, practice_toml: Path
) -> None:
    tuesday = first_tuesday_after(datetime.now(ZURICH).date())
    closed = tuesday + timedelta(days=7)
    with browser_page(browser) as page:
        log_in(page, demo)
        create_claire(page)
        set_hours(page, closed)
        create_service(page)
        preview(page, tuesday)
        expect(page.locator(f"#preview-{SERVICE} .slot")).to_have_text(CHAIN)
        preview(page, closed)
        expect(page.locator(f"#preview-{SERVICE}")).to_have_text("Aucun créneau ce jour-là.")
        set_password(page)

    principal, calendar, name, colour = claires_calendar(demo)
    assert principal == f"{demo.base_url}/dav/claire/"
    assert calendar == f"{demo.base_url}/dav/claire/appointments/"
    assert (name, colour) == ("Séances de Claire", "#AA3366")

    assert api_times(demo, tuesday) == CHAIN  # the booking page offers what the panel showed
    assert api_times(demo, closed) == []

    text = practice_toml.read_text(encoding="utf-8")
    saved = tomllib.loads(text)
    assert saved["therapists"]["claire"] == {
        "name": "Claire Dubois",
        "email": "claire@cabinet-du-lac.example",
        "phone": "+41795550103",
        "language": "de",
        "calendar_name": "Séances de Claire",
        "color": "#AA3366",
        "hours": {"tuesday": ["14:00-18:00"], "thursday": ["08:00-12:00", "14:00-18:00"]},
        "exceptions": [{"date": closed, "note": "Formation continue"}],
    }
    assert saved["services"][SERVICE] == {
        "name": NAMES,
        "duration_minutes": 75,
        "availability": "fixed",
        "therapists": ["claire"],
    }
    assert comment_blocks(text) == comment_blocks(DEMO_CONFIG.read_text(encoding="utf-8"))

"""A patient books, moves and cancels an appointment in French in a real browser, and the
therapist's calendar app (the real `caldav` client) sees each step, on SQLite and PostgreSQL.

Chromium (Playwright) drives the real `caldav-bridge serve` process on loopback: service ->
therapist -> week -> day -> slot -> details -> confirm; the confirmation; its manage link;
another time; cancellation. Anne reads her `appointments` calendar with the password that
`init --demo` printed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from playwright.sync_api import Browser, Page, expect

from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.browser import (
    LivePractice,
    bookable_day,
    browser_page,
    fill_details,
    french_day,
    hhmm,
    open_day,
    served_demo,
    slot_button,
    slot_starts,
    summary,
)
from tests.support.calendars import ZURICH

SEANCE = timedelta(minutes=75)
PLACE = "Avenue de Rhodanie 58, 1007 Lausanne"


@pytest.fixture(params=["sqlite", "postgres"])
def live(request: pytest.FixtureRequest, practice_toml: Path) -> Iterator[LivePractice]:
    """The demo practice served on SQLite, then on a fresh PostgreSQL database."""
    url = "" if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    with served_demo(practice_toml, {DATABASE_URL_ENV: url}) as served:
        yield served


@pytest.fixture
def anne_calendar(live: LivePractice) -> Iterator[Calendar]:
    """Anne's `appointments` calendar, as her calendar app finds it from the server's root."""
    with DAVClient(
        url=live.base_url + "/", username="anne", password=live.passwords["anne"]
    ) as client:
        principal = client.principal()  # type: ignore[no-untyped-call]
        calendars = principal.calendars()
        assert isinstance(calendars, list)  # the sync client's answer (not a coroutine)
        (calendar,) = calendars
        assert str(calendar.url) == f"{live.dav_url}anne/appointments/"
        yield calendar


def events_on(calendar: Calendar, day: date) -> list[tuple[str, datetime, datetime]]:
    """(UID, start, end) of each event of ``day`` in the calendar."""
    start = datetime(day.year, day.month, day.day, tzinfo=ZURICH)
    found: object = calendar.search(start=start, end=start + timedelta(days=1), event=True)
    assert isinstance(found, list)
    return sorted(
        (
            str(event.icalendar_component["UID"]),
            event.icalendar_component.start,
            event.icalendar_component.end,
        )
        for event in found
    )


def expected_summary(start: datetime) -> dict[str, str]:
    return {
        "date": french_day(start.date()),
        "time": f"{hhmm(start)}–{hhmm(start + SEANCE)}",
        "duration": "75 min",
        "service": "Séance (75 min)",
        "therapist": "Anne Rochat",
        "place": PLACE,
        "patient": "Zoë Müller-Ødegård",
    }


def appointment_uid(page: Page) -> str:
    """The appointment's UID, read from the page's "add to my calendar" file (whose own UID is
    the appointment's with "-patient" appended, so it never clashes with the therapist's)."""
    href = page.locator("#add-to-calendar").get_attribute("href")
    assert href
    response = page.request.get(urljoin(page.url, href))
    assert response.ok, response.status
    (uid,) = [line[4:] for line in response.text().splitlines() if line.startswith("UID:")]
    return uid.removesuffix("-patient")


def book_first_slot(page: Page, live: LivePractice, day: date) -> list[datetime]:
    """From the home page to the confirmation; the slots that ``day`` offered."""
    page.goto(live.base_url + "/")
    page.get_by_role("link", name="Prendre rendez-vous").click()
    page.locator("#service-seance-75").click()
    expect(page.locator("h1")).to_have_text("Avec qui ?")
    page.locator("#therapist-anne").click()
    expect(page.locator("h1")).to_have_text("Choisir un horaire")
    open_day(page, day)
    expect(page.locator("#slots legend")).to_have_text(f"Créneaux libres le {french_day(day)}")
    starts = slot_starts(page)
    assert len(starts) >= 2, starts
    assert {start.astimezone(ZURICH).date() for start in starts} == {day}
    page.locator(slot_button(page, starts[0])).click()
    expect(page.locator("h1")).to_have_text("Vos coordonnées")
    fill_details(page)
    page.get_by_role("button", name="Confirmer le rendez-vous").click()
    expect(page.locator("h1")).to_have_text("Votre rendez-vous est réservé")
    return starts


def test_a_patient_books_moves_and_cancels_and_anne_sees_it_in_her_calendar(
    browser: Browser, live: LivePractice, anne_calendar: Calendar
) -> None:
    day = bookable_day(datetime.now(ZURICH).date())
    later = bookable_day(day + timedelta(days=4))  # in a later week
    with browser_page(browser) as page:
        starts = book_first_slot(page, live, day)
        booked = starts[0].astimezone(ZURICH)

        # The confirmation, in French.
        assert summary(page) == expected_summary(booked)
        uid = appointment_uid(page)
        assert events_on(anne_calendar, day) == [(uid, booked, booked + SEANCE)]

        # The manage link from the confirmation page.
        page.locator("#manage-link").click()
        expect(page.locator("h1")).to_have_text("Votre rendez-vous")
        assert summary(page) == expected_summary(booked)

        # Another time, in a later week.
        page.get_by_role("link", name="Choisir un autre horaire").click()
        expect(page.locator("h1")).to_have_text("Choisir un autre horaire")
        open_day(page, later)
        moved = slot_starts(page)[-1].astimezone(ZURICH)
        page.locator(slot_button(page, moved)).click()
        expect(page.locator("h1")).to_have_text("Déplacer votre rendez-vous ?")
        assert page.locator("#move-from").inner_text() == f"{french_day(day)}, {hhmm(booked)}"
        assert page.locator("#move-to").inner_text() == f"{french_day(later)}, {hhmm(moved)}"
        page.get_by_role("button", name="Déplacer mon rendez-vous").click()
        expect(page.locator(".flash-info")).to_contain_text("Votre rendez-vous a été déplacé.")
        assert summary(page) == expected_summary(moved)
        assert events_on(anne_calendar, day) == []
        assert events_on(anne_calendar, later) == [(uid, moved, moved + SEANCE)]

        # Cancelled: gone from anne's calendar.
        page.get_by_role("link", name="Annuler ce rendez-vous").click()
        expect(page.locator("h1")).to_have_text("Annuler ce rendez-vous ?")
        page.get_by_role("button", name="Oui, annuler le rendez-vous").click()
        expect(page.locator("h1")).to_have_text("Ce rendez-vous a été annulé")
        assert events_on(anne_calendar, later) == []
        # The first time is offered again.
        page.get_by_role("link", name="Prendre un nouveau rendez-vous").click()
        page.locator("#service-seance-75").click()
        page.locator("#therapist-anne").click()
        open_day(page, day)
        assert slot_starts(page) == starts

"""A therapist's day in a real browser, in French: anne logs in, finds Zoë on the patients
page, books her a follow-up at one of the engine's free times, sees it in the day's agenda,
moves it to a time outside her free times (confirming the warning), and cancels it.

Chromium (Playwright) drives the real `caldav-bridge serve` process on loopback (SQLite, the
demo configuration pointed at a real aiosmtpd SMTP server on loopback; the watcher runs in the
server, as by default). After each step the test reads what anne's calendar app sees (the
real `caldav` client, with the password `init --demo` printed) and waits, bounded, for the
notices that patient and therapist receive.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from playwright.sync_api import Browser, Page, expect

from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.browser import (
    MONTHS_FR,
    WEEKDAYS_FR,
    LivePractice,
    bookable_day,
    browser_page,
    french_day,
    hhmm,
    served_demo,
    slot_starts,
)
from tests.support.calendars import ZURICH
from tests.support.notify import configure
from tests.support.online_bookings import PATIENTS, ZOE, book_online, free_starts
from tests.support.smtp import SmtpServer

SUIVI = timedelta(minutes=45)
ZOE_EMAIL = ZOE["email"]
ANNE_EMAIL = "anne@cabinet-du-lac.example"
MAIL_TIMEOUT = 60.0  # seconds: the watcher passes every second, on two busy cores


@dataclass(frozen=True, order=True)
class CalendarEvent:
    """An event as a calendar app shows it: its wall-clock times in its own time zone."""

    uid: str
    summary: str
    zone: str  # DTSTART's TZID
    start: datetime  # naive: the wall-clock time written in the file
    end: datetime


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def live(practice_toml: Path, smtp: SmtpServer) -> Iterator[LivePractice]:
    """The demo practice on SQLite, its notices sent to the loopback SMTP server."""
    configure(practice_toml, smtp)
    with served_demo(practice_toml, {DATABASE_URL_ENV: ""}) as served:
        yield served


@pytest.fixture
def anne_calendar(live: LivePractice) -> Iterator[Calendar]:
    with DAVClient(
        url=live.base_url + "/", username="anne", password=live.passwords["anne"]
    ) as client:
        principal = client.principal()  # type: ignore[no-untyped-call]
        calendars = principal.calendars()
        assert isinstance(calendars, list)
        (calendar,) = calendars
        yield calendar


def events_on(calendar: Calendar, day: date) -> list[CalendarEvent]:
    start = datetime(day.year, day.month, day.day, tzinfo=ZURICH)
    found: object = calendar.search(start=start, end=start + timedelta(days=1), event=True)
    assert isinstance(found, list)
    events = []
    for event in found:
        component = event.icalendar_component
        events.append(
            CalendarEvent(
                str(component["UID"]),
                str(component["SUMMARY"]),
                str(component["DTSTART"].params.get("TZID", "")),
                component.start.replace(tzinfo=None),
                component.end.replace(tzinfo=None),
            )
        )
    return sorted(events)


def local(day: date, clock: str) -> datetime:
    """``day`` at ``clock`` ("12:30"), a naive wall-clock time."""
    return datetime.fromisoformat(f"{day.isoformat()}T{clock}")


def mail_date(moment: datetime) -> str:
    """ "mardi, 1 décembre 2026 à 08:00", as the French notices write it (Swiss CLDR)."""
    day = moment.date()
    return (
        f"{WEEKDAYS_FR[day.weekday()]}, {day.day} {MONTHS_FR[day.month - 1]} {day.year}"
        f" à {hhmm(moment)}"
    )


class Inbox:
    """The messages the SMTP server received, read in order: each step waits (bounded, never
    a sleep: the watcher passes every second) for the notices it should have caused."""

    def __init__(self, smtp: SmtpServer) -> None:
        self.smtp = smtp
        self.read = 0

    def next(self, count: int) -> list[tuple[str, str]]:
        """(recipient, subject) of every message after those read, once ``count`` arrived."""
        arrived = self.smtp.wait_for(self.read + count, timeout=MAIL_TIMEOUT)
        new, self.read = arrived[self.read :], len(arrived)
        return sorted((mail.to, mail.subject) for mail in new)


@pytest.fixture
def inbox(smtp: SmtpServer) -> Inbox:
    return Inbox(smtp)


def patients_book_online(live: LivePractice, inbox: Inbox, day: date) -> None:
    """Zoë and Hans booked online earlier (the JSON API of the booking page): they are anne's
    patients; their four notices are out before the therapist's day begins."""
    for patient, start in zip(PATIENTS, free_starts(live.base_url, day), strict=False):
        book_online(live.base_url, patient, start)
    assert len(inbox.next(4)) == 4


def log_in(page: Page, live: LivePractice) -> None:
    page.goto(live.base_url + "/therapist/login")
    expect(page.locator("h1")).to_have_text("Connexion thérapeute")
    page.get_by_label("Identifiant", exact=True).fill("anne")
    page.get_by_label("Mot de passe", exact=True).fill(live.passwords["anne"])
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#logged-in-as")).to_have_text("Anne Rochat")
    expect(page.locator("#nav-agenda")).to_have_attribute("aria-current", "page")


def find_zoe(page: Page) -> None:
    """On the patients page, search by name; open Zoë's record."""
    page.locator("#nav-patients").click()
    expect(page.locator("h1")).to_have_text("Patients")
    search = page.get_by_label("Chercher un patient par nom, e-mail ou téléphone")
    search.fill("Müller")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"/therapist/patients\?q=M"))
    rows = page.locator("#patients tbody tr")
    expect(rows).to_have_count(1)
    expect(rows).to_contain_text("Müller Zoë")
    expect(rows).to_contain_text(ZOE_EMAIL)
    rows.get_by_role("link", name="Müller Zoë").click()
    expect(page.locator("#patient-name")).to_have_text("Zoë Müller")
    expect(page.locator("#upcoming li")).to_have_count(1)  # her online booking


def book_a_free_time(page: Page, day: date) -> datetime:
    """From Zoë's record: a follow-up at the second free time of ``day``; its start."""
    page.locator("#book-for-patient").click()
    expect(page.locator("h1")).to_have_text("Nouveau rendez-vous")
    expect(page.locator("#booking-patient")).to_contain_text("Zoë Müller")
    page.get_by_label("Prestation").select_option(label="Suivi (45 min)")
    page.get_by_label("Jour", exact=True).fill(day.isoformat())
    page.locator("#show-free-times").click()
    expect(page.locator("#free-times-title")).to_have_text(f"Créneaux libres le {french_day(day)}")
    starts = [start.astimezone(ZURICH) for start in slot_starts(page)]
    assert len(starts) >= 2, starts
    assert {start.date() for start in starts} == {day}
    chosen = starts[1]
    page.locator(f"#slot-{chosen.strftime('%H%M')}").click()
    expect(page.locator(".flash-info")).to_have_text("Le rendez-vous est réservé.")
    return chosen


def expect_appointment(page: Page, start: datetime) -> None:
    """The appointment page shows Zoë's follow-up at ``start``."""
    expect(page.locator("#appointment-patient")).to_have_text("Zoë Müller")
    expect(page.locator("#appointment-date")).to_have_text(french_day(start.date()))
    expect(page.locator("#appointment-time")).to_have_text(f"{hhmm(start)}–{hhmm(start + SUIVI)}")
    expect(page.locator("#appointment-service")).to_have_text("Suivi (45 min)")


def uid_of(page: Page) -> str:
    """The appointment's UID, from its page's address (/therapist/appointments/<uid>)."""
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def expect_in_agenda(page: Page, uid: str, start: datetime) -> None:
    """From the appointment page to its day in the agenda, which lists it at ``start``."""
    page.locator("#back-to-agenda").click()
    expect(page.locator("#agenda-title")).to_have_text(french_day(start.date()))
    entry = page.locator(f"[id='entry-{start.date().isoformat()}-{uid}']")
    expect(entry.locator(".entry-time")).to_have_text(f"{hhmm(start)}–{hhmm(start + SUIVI)}")
    expect(entry.locator(".entry-title")).to_have_text("Suivi (45 min) – Zoë Müller")
    expect(page.locator(".entry")).to_have_count(1)
    entry.get_by_role("link").click()
    expect(page.locator("h1")).to_have_text("Rendez-vous")


def move_outside_the_free_times(page: Page, booked: datetime) -> datetime:
    """Move to 12:30 the same day (anne's lunch break on working days; before her Wednesday
    hours): the page warns that it is not a free time; anne confirms."""
    moved = datetime.combine(booked.date(), time(12, 30), ZURICH)
    page.locator("#move").click()
    expect(page.locator("h1")).to_have_text("Déplacer le rendez-vous")
    page.locator("#other-time").get_by_label("Date", exact=True).fill(moved.date().isoformat())
    page.locator("#other-time").get_by_label("Heure", exact=True).fill("12:30")
    page.locator("#other-time-submit").click()
    expect(page.locator("h1")).to_have_text("Veuillez confirmer cette heure")
    expect(page.locator("#warning-outside")).to_be_visible()
    expect(page.locator("#warning-overlap")).to_have_count(0)
    expect(page.locator("#checked-now")).to_contain_text(hhmm(booked))
    expect(page.locator("#checked-date")).to_have_text(french_day(moved.date()))
    expect(page.locator("#checked-clock")).to_have_text(f"12:30–{hhmm(moved + SUIVI)}")
    page.get_by_role("button", name="Le déplacer à cette heure").click()
    expect(page.locator(".flash-info")).to_have_text(
        "Le rendez-vous a été déplacé. Le patient en sera informé."
    )
    return moved


def cancel_it(page: Page) -> None:
    page.locator("#cancel").click()
    expect(page.locator("h1")).to_have_text("Annuler ce rendez-vous ?")
    page.get_by_role("button", name="Oui, annuler le rendez-vous").click()
    expect(page.locator(".flash-info")).to_have_text(
        "Le rendez-vous a été annulé. Le patient en sera informé."
    )
    expect(page.locator("h1")).to_have_text("Rendez-vous annulé")
    expect(page.locator("#appointment-status")).to_have_text("annulé")
    expect(page.locator("#move")).to_have_count(0)


def test_a_therapists_day_books_moves_and_cancels_and_the_calendar_and_mail_follow(
    browser: Browser, live: LivePractice, anne_calendar: Calendar, inbox: Inbox
) -> None:
    day = bookable_day(datetime.now(ZURICH).date())
    patients_book_online(live, inbox, bookable_day(day + timedelta(days=1)))
    summary = "Suivi (45 min) – Z. M."  # the calendar shows initials (practice.privacy)
    with browser_page(browser) as page:
        log_in(page, live)
        find_zoe(page)

        # Booked at a free time: the page, the calendar app, the notices.
        booked = book_a_free_time(page, day)
        uid = uid_of(page)
        expect_appointment(page, booked)
        expect(page.locator("#appointment-booked-by")).to_have_text("vous")
        wall = booked.replace(tzinfo=None)
        assert events_on(anne_calendar, day) == [
            CalendarEvent(uid, summary, "Europe/Zurich", wall, wall + SUIVI)
        ]
        assert inbox.next(2) == [
            (ANNE_EMAIL, f"Nouveau rendez-vous : Zoë Müller, {mail_date(booked)}"),
            (ZOE_EMAIL, f"Rendez-vous confirmé : {mail_date(booked)}"),
        ]
        expect_in_agenda(page, uid, booked)

        # Moved to a time of anne's choosing, once she confirmed the warning.
        moved = move_outside_the_free_times(page, booked)
        expect_appointment(page, moved)
        assert events_on(anne_calendar, day) == [
            CalendarEvent(uid, summary, "Europe/Zurich", local(day, "12:30"), local(day, "13:15"))
        ]
        assert inbox.next(2) == [
            (ANNE_EMAIL, f"Rendez-vous modifié : Zoë Müller, {mail_date(moved)}"),
            (ZOE_EMAIL, f"Rendez-vous modifié : {mail_date(moved)}"),
        ]
        expect_in_agenda(page, uid, moved)

        # Cancelled: gone from the calendar app and from the agenda.
        cancel_it(page)
        assert events_on(anne_calendar, day) == []
        assert inbox.next(2) == [
            (ANNE_EMAIL, f"Rendez-vous annulé : Zoë Müller, {mail_date(moved)}"),
            (ZOE_EMAIL, f"Rendez-vous annulé : {mail_date(moved)}"),
        ]
        page.locator("#back-to-agenda").click()
        expect(page.locator("#agenda-title")).to_have_text(french_day(day))
        expect(page.locator(".nothing")).to_have_text("Rien de prévu")

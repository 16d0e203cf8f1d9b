"""The therapist's agenda, on SQLite and PostgreSQL: appointments and the therapist's own
events from all their calendars, recurring events expanded, in the practice's zone, DST days
with their real length; day and week views, navigation, and nothing of a colleague."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.store import Appointment, PatientDetails, Store
from tests.integration.test_therapist_support import (
    Space,
    at,
    audit_actions,
    logged_in,
    therapist_space,
)
from tests.support.calendars import calendar_file, ensure_calendar, event, put_ics
from tests.support.web import NOW, attribute, element, text_of

ANNE = "anne/appointments"


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return therapist_space(store, practice_toml)


def booked(space: Space, start: str, service: str = "seance-75") -> Appointment:
    patient = PatientDetails("Zoë", "Müller", "zoe@example.org", "+41791234567", "fr")
    request = BookingRequest(service, "anne", at(start), patient, consent=True)
    return book(space.store, space.web.runtime.config, request, NOW).appointment


def day_text(client: FlaskClient, day: str) -> str:
    """The text of ``day`` in the day view."""
    page = client.get(f"/therapist/agenda?view=day&date={day}")
    assert page.status_code == 200
    return element(page, f"day-{day}")


def test_a_day_shows_appointments_and_private_events_in_order(space: Space) -> None:
    appointment = booked(space, "2026-12-02 15:15")
    put_ics(
        space.store,
        ANNE,
        event("supervision", "20261125T140000", "20261125T150000", "RRULE:FREQ=WEEKLY"),
    )
    put_ics(
        space.store,
        ANNE,
        event("free", "20261202T170000", "20261202T173000", "TRANSP:TRANSPARENT"),
    )
    client = logged_in(space)
    page = client.get("/therapist/agenda?view=day&date=2026-12-02")
    assert element(page, "agenda-title") == "mercredi 2 décembre 2026"
    assert element(page, "hours-2026-12-02") == "Ouvert 14:00–18:00"
    assert element(page, "day-2026-12-02") == (
        "mercredi 2 décembre 2026 Ouvert 14:00–18:00 "
        "14:00–15:00 Private répétition "
        "15:15–16:30 Séance (75 min) – Zoë Müller "
        "17:00–17:30 Private affiché comme libre"
    )
    link = re.search(r'href="(/therapist/appointments/[0-9a-f-]{36})"', page.get_data(as_text=True))
    assert link
    assert link.group(1) == f"/therapist/appointments/{appointment.uid}"
    assert client.get(link.group(1)).status_code == 200


def test_the_week_shows_seven_days_with_today_marked(space: Space) -> None:
    put_ics(
        space.store, ANNE, event("weekly", "20261102T090000", "20261102T093000", "RRULE:FREQ=DAILY")
    )
    client = logged_in(space)
    page = client.get("/therapist/agenda")
    assert element(page, "agenda-title") == "Semaine du lundi 30 novembre 2026"
    days = re.findall(r'id="day-(\d{4}-\d\d-\d\d)"', page.get_data(as_text=True))
    assert days == [f"2026-12-0{d}" if d > 0 else "2026-11-30" for d in range(7)]
    assert attribute(page, "day-2026-11-30", "aria-current") == "date"
    assert attribute(page, "day-2026-12-01", "aria-current") is None
    assert "Aujourd’hui" in element(page, "day-2026-11-30")
    for day in days:  # a daily series appears on each day, weekend included
        assert "09:00–09:30 Private" in element(page, f"day-{day}")
    assert element(page, "hours-2026-12-05") == "Fermé"
    assert attribute(page, "previous", "href") == "/therapist/agenda?view=week&date=2026-11-23"
    assert attribute(page, "next", "href") == "/therapist/agenda?view=week&date=2026-12-07"
    assert attribute(page, "switch-view", "href") == "/therapist/agenda?view=day&date=2026-11-30"


def test_go_to_a_date_and_move_by_day(space: Space) -> None:
    client = logged_in(space)
    page = client.get("/therapist/agenda", query_string={"view": "day", "date": "2027-02-17"})
    assert element(page, "agenda-title") == "mercredi 17 février 2027"
    assert attribute(page, "previous", "href") == "/therapist/agenda?view=day&date=2027-02-16"
    assert attribute(page, "next", "href") == "/therapist/agenda?view=day&date=2027-02-18"
    assert attribute(page, "today", "href") == "/therapist/agenda?view=day&date=2026-11-30"
    week = client.get("/therapist/agenda", query_string={"view": "week", "date": "2027-02-17"})
    assert element(week, "agenda-title") == "Semaine du lundi 15 février 2027"
    for wrong in ("2027-02-30", "yesterday", "0001-01-01"):
        fallback = client.get("/therapist/agenda", query_string={"view": "day", "date": wrong})
        assert element(fallback, "agenda-title") == "lundi 30 novembre 2026"


def test_the_spring_dst_day_has_23_hours_and_real_local_times(space: Space) -> None:
    # A weekly series from winter keeps its wall-clock time after the change.
    put_ics(
        space.store, ANNE, event("yoga", "20270307T090000", "20270307T100000", "RRULE:FREQ=WEEKLY")
    )
    # 01:30-03:30 on the night of the change lasts one real hour.
    put_ics(space.store, ANNE, event("night", "20270328T013000", "20270328T033000"))
    client = logged_in(space)
    assert day_text(client, "2027-03-28") == (
        "dimanche 28 mars 2027 Fermé "
        "Le changement d’heure a lieu ce jour-là : il compte 23 heures. "
        "01:30–03:30 Private 09:00–10:00 Private répétition"
    )
    assert "changement d’heure" not in day_text(client, "2027-03-21")
    autumn = day_text(client, "2026-10-25")
    assert "il compte 25 heures" in autumn


def test_all_day_events_and_events_over_midnight(space: Space) -> None:
    put_ics(
        space.store,
        ANNE,
        "\r\n".join(
            [
                "BEGIN:VCALENDAR",
                "VERSION:2.0",
                "PRODID:-//test//EN",
                "BEGIN:VEVENT",
                "UID:congress",
                "DTSTAMP:20261101T000000Z",
                "DTSTART;VALUE=DATE:20261203",
                "DTEND;VALUE=DATE:20261205",
                "SUMMARY:Congrès",
                "END:VEVENT",
                "END:VCALENDAR",
                "",
            ]
        ),
    )
    put_ics(space.store, ANNE, event("night-shift", "20261203T220000", "20261204T020000"))
    client = logged_in(space)
    thursday = day_text(client, "2026-12-03")
    friday = day_text(client, "2026-12-04")
    assert "Toute la journée Congrès" in thursday
    assert "Toute la journée Congrès" in friday
    assert "22:00–… Private" in thursday
    assert "…–02:00 Private" in friday
    assert "Congrès" not in day_text(client, "2026-12-05")


def test_every_calendar_of_the_therapist_is_shown_and_no_colleagues(space: Space) -> None:
    ensure_calendar(space.store, "anne/private")
    put_ics(space.store, "anne/private", event("dentist", "20261203T163000", "20261203T173000"))
    put_ics(space.store, "marc/appointments", event("marcs", "20261203T080000", "20261203T090000"))
    put_ics(space.store, ANNE, calendar_file("apple_weekly_supervision.ics"))
    client = logged_in(space)
    # Entries from two calendars on one day: each says which calendar it is in.
    assert day_text(client, "2026-12-03") == (
        "jeudi 3 décembre 2026 Ouvert 08:00–12:00, 14:00–18:00 "
        "10:00–10:50 Supervision répétition appointments "
        "16:30–17:30 Private private"
    )


def test_an_event_with_a_repeated_title_shows_its_first_one(space: Space) -> None:
    put_ics(
        space.store,
        ANNE,
        event("twice", "20261203T080000", "20261203T090000", "SUMMARY:Formation"),
    )
    client = logged_in(space)
    assert "08:00–09:00 Private" in day_text(client, "2026-12-03")


def test_a_cancelled_appointment_leaves_the_agenda(space: Space) -> None:
    from caldav_bridge.booking import cancel

    appointment = booked(space, "2026-12-02 14:00")
    client = logged_in(space)
    assert "Zoë Müller" in day_text(client, "2026-12-02")
    cancel(
        space.store,
        space.web.runtime.config,
        appointment.uid,
        1,
        NOW,
        "patient",
        enforce_cutoff=True,
    )
    assert "Zoë Müller" not in day_text(client, "2026-12-02")


def test_looking_at_the_agenda_is_audited_without_personal_data(space: Space) -> None:
    booked(space, "2026-12-02 14:00")
    client = logged_in(space)
    client.get("/therapist/agenda?view=day&date=2026-12-02")
    assert ("anne", "agenda.read", "therapist:anne", "2026-12-02+1") in audit_actions(space.store)
    assert "Zoë" not in text_of_audit(space)


def text_of_audit(space: Space) -> str:
    return " ".join(" ".join(entry) for entry in audit_actions(space.store))


def test_the_agenda_page_has_no_form_that_changes_anything(space: Space) -> None:
    booked(space, "2026-12-02 14:00")
    page = logged_in(space).get("/therapist/agenda")
    forms = re.findall(r"<form\b[^>]*>", page.get_data(as_text=True))
    posting = sorted(
        re.search(r'action="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        for form in forms
        if 'method="post"' in form
    )
    assert posting == ["/language", "/therapist/logout"]
    assert "Zoë Müller" in text_of(page)

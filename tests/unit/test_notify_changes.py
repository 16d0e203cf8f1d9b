"""What a change to an appointment's event means for the patient (notify.changes).

Calendar apps rewrite events for many reasons; only time, place and cancellation matter to a
patient. Each row: the event before, the event after, and what the patient is told.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from caldav_bridge.notify.changes import appointment_change, event_facts

ZURICH = ZoneInfo("Europe/Zurich")


def event(*lines: str, start: str = "20261202T151500", end: str | None = "20261202T163000") -> str:
    body = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Apple Inc.//macOS 15.0//EN",
        "BEGIN:VEVENT",
        "UID:appointment-1",
        "DTSTAMP:20261101T081500Z",
        f"DTSTART;TZID=Europe/Zurich:{start}",
        *([f"DTEND;TZID=Europe/Zurich:{end}"] if end else []),
        "SUMMARY:Séance – Z. M.",
        "LOCATION:Avenue de Rhodanie 58",
        *lines,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(body) + "\r\n"


BOOKED = event()


@pytest.mark.parametrize(
    ("after", "kind", "moved", "place_changed"),
    [
        (event(start="20261203T090000", end="20261203T101500"), "changed", True, False),
        (event(end="20261202T170000"), "changed", True, False),  # longer: the end moved
        (
            event(end=None, start="20261202T151500").replace(
                "SUMMARY", "DURATION:PT90M\r\nSUMMARY"
            ),
            "changed",
            True,
            False,
        ),
        (
            event().replace("Avenue de Rhodanie 58", "Cabinet 2, Rue du Port 1"),
            "changed",
            False,
            True,
        ),
        (event("STATUS:CANCELLED"), "cancelled", False, False),
        (None, "cancelled", False, False),  # DELETE
    ],
)
def test_a_change_the_patient_notices(
    after: str | None, kind: str, moved: bool, place_changed: bool
) -> None:
    change = appointment_change(BOOKED, after, ZURICH)
    assert change is not None
    assert (change.kind, change.moved, change.place_changed) == (kind, moved, place_changed)


@pytest.mark.parametrize(
    "after",
    [
        event("DESCRIPTION:Bring the X-ray"),  # the therapist's notes
        event().replace("SUMMARY:Séance – Z. M.", "SUMMARY:Séance – Zoë"),
        event("SEQUENCE:3").replace("DTSTAMP:20261101T081500Z", "DTSTAMP:20261120T100000Z"),
        event("BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER:-PT15M", "END:VALARM"),
        event("STATUS:CONFIRMED", "TRANSP:OPAQUE"),
    ],
)
def test_a_change_the_patient_does_not_notice_sends_nothing(after: str) -> None:
    assert appointment_change(BOOKED, after, ZURICH) is None


def test_the_same_instant_written_in_another_zone_is_no_move() -> None:
    utc = BOOKED.replace("DTSTART;TZID=Europe/Zurich:20261202T151500", "DTSTART:20261202T141500Z")
    utc = utc.replace("DTEND;TZID=Europe/Zurich:20261202T163000", "DTEND:20261202T153000Z")
    assert appointment_change(BOOKED, utc, ZURICH) is None


def test_a_new_event_is_a_booking_and_an_already_cancelled_one_changes_nothing() -> None:
    booked = appointment_change(None, BOOKED, ZURICH)
    assert booked is not None
    assert (booked.kind, booked.before) == ("booked", None)
    cancelled = event("STATUS:CANCELLED")
    assert appointment_change(cancelled, None, ZURICH) is None
    assert (
        appointment_change(cancelled, cancelled.replace("20261202T15", "20261203T15"), ZURICH)
        is None
    )
    restored = appointment_change(cancelled, BOOKED, ZURICH)
    assert restored is not None
    assert restored.kind == "booked"


def test_the_facts_are_in_utc_whatever_the_event_says() -> None:
    facts = event_facts(BOOKED, ZURICH)
    assert facts is not None
    assert (facts.start, facts.end) == (
        datetime(2026, 12, 2, 14, 15, tzinfo=UTC),
        datetime(2026, 12, 2, 15, 30, tzinfo=UTC),
    )
    floating = BOOKED.replace(";TZID=Europe/Zurich", "")
    assert event_facts(floating, ZURICH) == facts  # floating times: the practice's zone
    summer = event(start="20260702T151500", end="20260702T163000")
    summer_facts = event_facts(summer, ZURICH)
    assert summer_facts is not None
    assert summer_facts.start == datetime(2026, 7, 2, 13, 15, tzinfo=UTC)  # CEST, UTC+2


def test_an_override_listed_first_does_not_hide_the_main_event() -> None:
    override = (
        "BEGIN:VEVENT\r\nUID:appointment-1\r\nDTSTAMP:20261101T081500Z\r\n"
        "RECURRENCE-ID;TZID=Europe/Zurich:20261209T151500\r\n"
        "DTSTART;TZID=Europe/Zurich:20261209T170000\r\n"
        "DTEND;TZID=Europe/Zurich:20261209T181500\r\nEND:VEVENT\r\n"
    )
    weekly = BOOKED.replace("LOCATION:", "RRULE:FREQ=WEEKLY;COUNT=3\r\nLOCATION:")
    text = weekly.replace("BEGIN:VEVENT\r\n", override + "BEGIN:VEVENT\r\n", 1)
    assert text.index("RECURRENCE-ID") < text.index("RRULE")
    facts = event_facts(text, ZURICH)
    assert facts is not None
    assert facts.start == datetime(2026, 12, 2, 14, 15, tzinfo=UTC)


def test_text_that_is_not_a_readable_event_has_no_facts() -> None:
    assert event_facts(None, ZURICH) is None
    assert event_facts("not iCalendar at all", ZURICH) is None
    todo = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTODO\r\nUID:t\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    assert event_facts(todo, ZURICH) is None

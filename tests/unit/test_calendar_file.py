"""The patient's "add to calendar" file: what, when, where, with whom; nothing about them."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

from caldav_bridge.calendar_file import PublishedEvent, calendar_file, patient_uid

ZURICH = ZoneInfo("Europe/Zurich")
EVENT = PublishedEvent(
    uid="3f2c-appointment",
    version=1,
    start=datetime(2026, 12, 2, 14, 0, tzinfo=ZURICH),
    end=datetime(2026, 12, 2, 15, 15, tzinfo=ZURICH),
    summary="Séance (75 min) – Anne Rochat",
    location="Avenue de Rhodanie 58, 1007 Lausanne",
    description="Cabinet du Lac · +41 21 555 01 00",
)
STAMP = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


def parsed(event: PublishedEvent) -> icalendar.Calendar:
    return icalendar.Calendar.from_ical(calendar_file(event, STAMP, ZURICH))


def test_the_file_holds_one_published_event_in_the_practices_zone() -> None:
    calendar = parsed(EVENT)
    assert str(calendar["METHOD"]) == "PUBLISH"
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == EVENT.start
    assert vevent["DTSTART"].params["TZID"] == "Europe/Zurich"
    assert vevent.decoded("DTEND") == EVENT.end
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Zurich"]
    assert sorted(vevent.keys()) == [
        "DESCRIPTION",
        "DTEND",
        "DTSTAMP",
        "DTSTART",
        "LOCATION",
        "SEQUENCE",
        "STATUS",
        "SUMMARY",
        "TRANSP",
        "UID",
    ]
    assert str(vevent["SUMMARY"]) == "Séance (75 min) – Anne Rochat"


def test_its_uid_differs_from_the_therapists_event_and_a_move_updates_it() -> None:
    first = parsed(EVENT).walk("VEVENT")[0]
    moved = parsed(
        PublishedEvent(**{**EVENT.__dict__, "version": 3, "start": EVENT.start.replace(hour=16)})
    ).walk("VEVENT")[0]
    assert str(first["UID"]) == patient_uid(EVENT.uid) != EVENT.uid
    assert str(moved["UID"]) == str(first["UID"])  # the same event in the patient's calendar
    assert (first.decoded("SEQUENCE"), moved.decoded("SEQUENCE")) == (0, 2)


def test_text_with_line_breaks_cannot_add_properties() -> None:
    sneaky = PublishedEvent(
        **{**EVENT.__dict__, "summary": "Séance\r\nATTENDEE:mailto:evil@example.org; x, y"}
    )
    (vevent,) = parsed(sneaky).walk("VEVENT")
    assert "ATTENDEE" not in vevent
    # The break stays inside the (escaped) summary text.
    assert str(vevent["SUMMARY"]) == "Séance\nATTENDEE:mailto:evil@example.org; x, y"

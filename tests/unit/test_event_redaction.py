"""Taking an erased patient out of an appointment's event: her name, contact data and the
therapist's notes go; what the calendar and the watcher need stays, so the redaction is no
change a patient or therapist would be told about."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest

from caldav_bridge.event_redaction import Identifiers, redacted_event
from caldav_bridge.notify.changes import appointment_change
from caldav_bridge.store import Patient

ZURICH = ZoneInfo("Europe/Zurich")
STAMP = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
APPLE = "apple_appointment_with_patient.ics"
ZOE = Patient(1, "Zoë", "Müller", "zoe@example.org", "+41791234567", "fr", True, "", None, "x")
WHO = Identifiers.of(ZOE)


def patient(first: str, last: str) -> Identifiers:
    return Identifiers.of(Patient(2, first, last, None, None, "fr", True, "", None, "x"))


@pytest.fixture
def apple(calendar_bytes: Callable[[str], bytes]) -> str:
    return calendar_bytes(APPLE).decode()


def redacted(text: str, who: Identifiers = WHO, stamp: datetime | None = None) -> str:
    found = redacted_event(text, "Séance (75 min)", who, stamp)
    assert found is not None
    return found


def event_of(text: str) -> icalendar.Event:
    (event,) = icalendar.Calendar.from_ical(text).events
    return event


def test_her_name_contact_data_and_the_notes_go(apple: str) -> None:
    text = redacted(apple)
    for trace in ("Zoë", "Müller", "zoe@example.org", "079 123 45 67", "ZOE-123"):
        assert trace not in text
    event = event_of(text)
    assert str(event["SUMMARY"]) == "Séance (75 min)"
    for gone in ("DESCRIPTION", "ATTENDEE", "X-PRACTICE-NOTE"):
        assert gone not in event


def test_what_the_calendar_needs_stays(apple: str) -> None:
    before, after = event_of(apple), event_of(redacted(apple))
    for name in ("UID", "LOCATION", "STATUS", "TRANSP", "SEQUENCE", "URL", "ORGANIZER"):
        assert after[name] == before[name], name
    assert (after.start, after.end) == (before.start, before.end)
    assert after["DTSTART"].params["TZID"] == "Europe/Zurich"
    assert str(after["X-APPLE-TRAVEL-ADVISORY-BEHAVIOR"]) == "AUTOMATIC"


def test_the_display_alarm_repeats_the_new_summary_and_the_email_alarm_goes(apple: str) -> None:
    alarms = event_of(redacted(apple)).walk("VALARM")
    assert [(str(a["ACTION"]), str(a["DESCRIPTION"])) for a in alarms] == [
        ("DISPLAY", "Séance (75 min)")
    ]


def test_the_watcher_sees_no_change(apple: str) -> None:
    assert appointment_change(apple, redacted(apple), ZURICH) is None


def test_a_stamp_marks_the_new_version_in_utc(apple: str) -> None:
    stamped = event_of(redacted(apple, stamp=STAMP.astimezone(ZURICH)))
    assert stamped.decoded("DTSTAMP") == STAMP
    assert stamped.decoded("LAST-MODIFIED") == STAMP
    kept = event_of(redacted(apple))
    assert kept.decoded("DTSTAMP") == datetime(2026, 11, 30, 7, 20, tzinfo=UTC)


def test_an_event_that_names_nobody_is_left_alone(apple: str) -> None:
    assert redacted_event(redacted(apple), "Séance (75 min)", WHO, STAMP) is None


def test_a_short_name_is_searched_in_the_full_name_only(apple: str) -> None:
    text = apple.replace("Zoë Müller", "Li Wu").replace("Avenue de Rhodanie", "Lindenhof")
    event = event_of(redacted(text, patient("Li", "Wu")))
    assert str(event["LOCATION"]) == "Lindenhof 58, 1007 Lausanne"
    assert str(event["SUMMARY"]) == "Séance (75 min)"


def test_a_place_that_names_her_goes_too(apple: str) -> None:
    text = apple.replace("Avenue de Rhodanie 58\\, 1007 Lausanne", "Chez Mme Müller (visite)")
    assert "LOCATION" not in event_of(redacted(text))


def test_text_that_is_not_icalendar_is_scrubbed() -> None:
    assert redacted_event("Zoë MÜLLER, +41791234567", "x", WHO) == "… …, …"
    assert redacted_event("nothing personal", "x", WHO) is None

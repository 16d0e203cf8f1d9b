"""Composing the read-only feed (caldav_bridge.feed): privacy, time zones, tokens, ETags."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest
from icalendar.cal.component import Component

from caldav_bridge.config import Config
from caldav_bridge.config_loader import load_config
from caldav_bridge.feed import (
    compose_feed,
    feed_etag,
    feed_token,
    patient_label,
    private_copy,
    summary_maker,
)
from caldav_bridge.store.feeds import AppointmentLabel, FeedFreshness

DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
SUPERVISION = "6D2A1B9E-3C4F-4E8A-9B71-2F5C8D0E4A13"  # apple_weekly_supervision.ics

APPOINTMENT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Apple Inc.//macOS 15.0//EN
BEGIN:VTIMEZONE
TZID:Europe/Zurich
BEGIN:STANDARD
DTSTART:19961027T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19810329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VTIMEZONE
TZID:Asia/Tokyo
BEGIN:STANDARD
DTSTART:19700101T000000
TZOFFSETFROM:+0900
TZOFFSETTO:+0900
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:appt-1
DTSTAMP:20261101T080000Z
DTSTART;TZID=Europe/Zurich:20261202T140000
DTEND;TZID=Europe/Zurich:20261202T151500
SEQUENCE:2
STATUS:CONFIRMED
SUMMARY:Zoë Müller (séance)
DESCRIPTION:Anxiety\\, second session. Phone +41 79 555 12 34
LOCATION:Cabinet du Lac\\, salle 2
ATTENDEE;CN=Zoë Müller:mailto:zoe@example.org
ORGANIZER;CN=Anne Rochat:mailto:anne@cabinet-du-lac.example
COMMENT:Prefers mornings
X-PATIENT-NOTES:see file
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Zoë Müller in 15 minutes
TRIGGER:-PT15M
END:VALARM
END:VEVENT
END:VCALENDAR
"""

FLOATING_TORONTO = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:toronto
DTSTAMP:20261101T080000Z
DTSTART;TZID=America/Toronto:20261203T090000
DTEND;TZID=America/Toronto:20261203T100000
SUMMARY:Conference call
END:VEVENT
END:VCALENDAR
"""


@pytest.fixture(scope="module")
def config() -> Config:
    return load_config(DEMO)


def read(name: str) -> str:
    path = Path(__file__).resolve().parents[1] / "data" / "calendars" / name
    return path.read_text(encoding="utf-8")


def label(uid: str, first: str | None = "Zoë", last: str | None = "Müller") -> AppointmentLabel:
    return AppointmentLabel(uid, "seance-75", first, last)


def events(feed: bytes) -> dict[str, list[Component]]:
    found: dict[str, list[Component]] = {}
    for event in icalendar.Calendar.from_ical(feed).walk("VEVENT"):
        found.setdefault(str(event["UID"]), []).append(event)
    return found


def fixed(summary: str) -> Callable[[AppointmentLabel], str]:
    return lambda _label: summary


@pytest.mark.parametrize(
    ("first", "last", "privacy", "shown"),
    [
        ("Zoë", "Müller", "initials", "Z. M."),
        ("Zoë", "Müller", "full_name", "Zoë Müller"),
        ("Jean-Luc", "de la Fontaine", "initials", "J.-L. D. L. F."),
        ("  Zoë ", " Müller ", "full_name", "Zoë Müller"),
        ("élodie", "çelik", "initials", "É. Ç."),
        (None, None, "initials", ""),
        (None, None, "full_name", ""),
    ],
)
def test_patient_label(first: str | None, last: str | None, privacy: str, shown: str) -> None:
    assert patient_label(first, last, privacy) == shown  # type: ignore[arg-type]


def test_an_appointment_shows_when_and_the_summary_only() -> None:
    feed = compose_feed([APPOINTMENT], {"appt-1": label("appt-1")}, fixed("Séance – Z. M."), "F")
    (event,) = events(feed)["appt-1"]
    assert str(event["SUMMARY"]) == "Séance – Z. M."
    assert sorted(event.keys()) == [
        "DTEND",
        "DTSTAMP",
        "DTSTART",
        "SEQUENCE",
        "STATUS",
        "SUMMARY",
        "UID",
    ]
    assert event.subcomponents == []  # no alarm (its text named the patient)
    assert event.decoded("DTSTART") == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    assert event["DTSTART"].params["TZID"] == "Europe/Zurich"
    for secret in (b"Anxiety", b"zoe@example.org", b"Prefers", b"notes", b"+41 79", b"salle"):
        assert secret not in feed
    assert "Müller".encode() not in feed


def test_every_occurrence_of_a_recurring_appointment_is_private() -> None:
    feed = compose_feed(
        [read("apple_weekly_supervision.ics")],
        {SUPERVISION: label(SUPERVISION)},
        fixed("Supervision – Z. M."),
        "F",
    )
    master, moved = events(feed)[SUPERVISION]
    assert {str(master["SUMMARY"]), str(moved["SUMMARY"])} == {"Supervision – Z. M."}
    assert "RRULE" in master
    assert "EXDATE" in master
    assert "RECURRENCE-ID" in moved
    assert b"Praxis Seefeld" not in feed


def test_other_events_pass_through_unchanged() -> None:
    source = read("google_new_york_weekly.ics")
    feed = compose_feed([source, APPOINTMENT], {"appt-1": label("appt-1")}, fixed("S"), "F")
    original = [c for c in icalendar.Calendar.from_ical(source).walk("VEVENT")]
    passed = events(feed)[str(original[0]["UID"])]
    assert [e.to_ical() for e in passed] == [e.to_ical() for e in original]


def test_each_time_zone_in_use_is_defined_once() -> None:
    texts = [
        APPOINTMENT,  # defines Zurich (used) and Tokyo (unused)
        read("apple_weekly_supervision.ics"),  # defines Zurich again
        read("google_new_york_weekly.ics"),
        FLOATING_TORONTO,  # uses Toronto without defining it
        read("davx5_allday_dst_spring.ics"),
        read("floating_time_export.ics"),
    ]
    feed = icalendar.Calendar.from_ical(compose_feed(texts, {}, fixed("S"), "F"))
    zones = [str(zone["TZID"]) for zone in feed.walk("VTIMEZONE")]
    assert sorted(zones) == sorted(feed.get_used_tzids())
    assert sorted(zones) == ["America/New_York", "America/Toronto", "Europe/Zurich"]
    zurich = next(z for z in feed.walk("VTIMEZONE") if z["TZID"] == "Europe/Zurich")
    source = next(iter(icalendar.Calendar.from_ical(APPOINTMENT).walk("VTIMEZONE")))
    assert zurich.to_ical() == source.to_ical()  # the first definition, as the client wrote it
    assert feed.subcomponents[0].name == "VTIMEZONE"  # zones come before the events
    assert len(feed.walk("VEVENT")) == 7  # the supervision series has a moved occurrence


def test_the_feed_is_one_published_calendar_named_for_the_therapist() -> None:
    feed = icalendar.Calendar.from_ical(compose_feed([], {}, fixed("S"), "Cabinet – Anne"))
    assert str(feed["X-WR-CALNAME"]) == "Cabinet – Anne"
    assert str(feed["METHOD"]) == "PUBLISH"
    assert str(feed["VERSION"]) == "2.0"


def test_a_private_copy_keeps_cancellation_and_transparency() -> None:
    event = icalendar.Event()
    event.add("UID", "x")
    event.add("STATUS", "CANCELLED")
    event.add("TRANSP", "TRANSPARENT")
    event.add("DESCRIPTION", "why")
    copy = private_copy(event, "Séance – Z. M.")
    assert (str(copy["STATUS"]), str(copy["TRANSP"])) == ("CANCELLED", "TRANSPARENT")
    assert "DESCRIPTION" not in copy


def test_summaries_follow_the_privacy_setting_and_the_therapists_language(config: Config) -> None:
    assert summary_maker(config, "anne")(label("a")) == "Séance (75 min) – Z. M."
    full = dataclasses.replace(
        config, practice=dataclasses.replace(config.practice, privacy="full_name")
    )
    assert summary_maker(full, "anne")(label("a")) == "Séance (75 min) – Zoë Müller"
    assert summary_maker(config, "anne")(label("a", None, None)) == "Séance (75 min)"
    gone = AppointmentLabel("a", "a-removed-service", "Zoë", "Müller")
    assert summary_maker(config, "anne")(gone) == "a-removed-service – Z. M."


def test_the_token_depends_on_key_login_and_version() -> None:
    token = feed_token("key", "anne", 0)
    assert token == feed_token("key", "anne", 0)
    others = {
        feed_token("key", "anne", 1),
        feed_token("key", "marc", 0),
        feed_token("k2", "anne", 0),
    }
    assert token not in others
    assert len(others) == 3
    assert len(token) == 43
    assert token.replace("-", "").replace("_", "").isalnum()


def test_the_etag_changes_with_what_the_feed_shows(config: Config) -> None:
    fresh = FeedFreshness(
        7, (("anne/appointments", datetime(2026, 1, 1, tzinfo=UTC)),), None, 0, None
    )
    etag = feed_etag("token", fresh, config, "anne", "2025-12-01")
    assert etag == feed_etag("token", fresh, config, "anne", "2025-12-01")
    assert len(etag) == 32
    assert etag.isalnum()
    full = dataclasses.replace(
        config, practice=dataclasses.replace(config.practice, privacy="full_name")
    )
    variants = {
        feed_etag("revoked", fresh, config, "anne", "2025-12-01"),
        feed_etag("token", dataclasses.replace(fresh, last_seq=8), config, "anne", "2025-12-01"),
        feed_etag("token", fresh, full, "anne", "2025-12-01"),
        feed_etag("token", fresh, config, "anne", "2025-12-02"),
    }
    assert etag not in variants
    assert len(variants) == 4

"""Busy time from therapists' calendars (``busy_intervals``), in Zurich local time.

What blocks a slot: every OPAQUE, not cancelled occurrence, at the local time the therapist
sees in their calendar app, including all-day events and across the DST changes of 2026
(29 March and 25 October).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from caldav_bridge.busy import busy_intervals, event_occurrences
from caldav_bridge.ical import parse_calendar
from caldav_bridge.intervals import Interval

ZURICH = ZoneInfo("Europe/Zurich")
OpenCalendar = Callable[[str], icalendar.Calendar]


def at(local: str) -> datetime:
    """``"2026-03-30 14:00"`` in Zurich."""
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZURICH)


def shown(interval: Interval) -> str:
    """How the therapist reads a block: ``Thu 10:00-10:50``, or with dates when it spans days."""
    start, end = interval.start, interval.end
    if start.date() == end.date():
        return f"{start:%a %H:%M}-{end:%H:%M}"
    return f"{start:%a %d.%m. %H:%M}-{end:%a %d.%m. %H:%M}"


def blocks(calendars: Iterable[icalendar.Calendar], first: str, last: str) -> list[str]:
    """Busy blocks overlapping ``[first 00:00, last 00:00)``, local days in Zurich."""
    found = busy_intervals(calendars, at(f"{first} 00:00"), at(f"{last} 00:00"), ZURICH)
    return [shown(interval) for interval in found]


def hours(interval: Interval) -> float:
    """Real (UTC) length of a block in hours."""
    return (interval.end.astimezone(UTC) - interval.start.astimezone(UTC)) / timedelta(hours=1)


def event(*properties: str) -> icalendar.Calendar:
    lines = ("UID:a@test", "DTSTAMP:20260301T000000Z", *properties)
    body = "\r\n".join(("BEGIN:VEVENT", *lines, "END:VEVENT"))
    return parse_calendar(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}\r\nEND:VCALENDAR"
    )


# (file, first day, day after the last, the blocks the therapist sees)
BUSY_DAYS = [
    # Apple weekly Thursday 10:00-10:50 from 5 March, EXDATE 19 March, 2 April moved to 3 April
    # 14:00; no end. Local time is kept across both DST changes.
    ("apple_weekly_supervision.ics", "2026-03-26", "2026-03-27", ["Thu 10:00-10:50"]),
    ("apple_weekly_supervision.ics", "2026-04-09", "2026-04-10", ["Thu 10:00-10:50"]),
    ("apple_weekly_supervision.ics", "2026-03-19", "2026-03-20", []),
    ("apple_weekly_supervision.ics", "2026-04-02", "2026-04-03", []),
    ("apple_weekly_supervision.ics", "2026-04-03", "2026-04-04", ["Fri 14:00-14:50"]),
    ("apple_weekly_supervision.ics", "2026-10-22", "2026-10-23", ["Thu 10:00-10:50"]),
    ("apple_weekly_supervision.ics", "2026-10-29", "2026-10-30", ["Thu 10:00-10:50"]),
    # Apple weekly Monday 08:00-08:50; the 6 April (Easter Monday) occurrence is cancelled.
    ("apple_cancelled_occurrence.ics", "2026-03-30", "2026-03-31", ["Mon 08:00-08:50"]),
    ("apple_cancelled_occurrence.ics", "2026-04-06", "2026-04-07", []),
    ("apple_cancelled_occurrence.ics", "2026-04-13", "2026-04-14", ["Mon 08:00-08:50"]),
    # Thunderbird weekly Tuesday 17:00-18:30 UNTIL 28 April, which is moved to Wed 6 May.
    ("thunderbird_intervision_until.ics", "2026-03-24", "2026-03-25", ["Tue 17:00-18:30"]),
    ("thunderbird_intervision_until.ics", "2026-03-31", "2026-04-01", ["Tue 17:00-18:30"]),
    ("thunderbird_intervision_until.ics", "2026-04-28", "2026-04-29", []),
    ("thunderbird_intervision_until.ics", "2026-05-05", "2026-05-07", ["Wed 17:00-18:30"]),
    # DAVx5 all-day holidays Saturday 24 to Monday 26 October (DTEND 27 October, exclusive).
    (
        "davx5_holidays_autumn.ics",
        "2026-10-26",
        "2026-10-27",
        ["Sat 24.10. 00:00-Tue 27.10. 00:00"],
    ),
    ("davx5_holidays_autumn.ics", "2026-10-27", "2026-10-28", []),
    # DAVx5 all-day training on the DST Sunday 29 March.
    (
        "davx5_allday_dst_spring.ics",
        "2026-03-29",
        "2026-03-30",
        ["Sun 29.03. 00:00-Mon 30.03. 00:00"],
    ),
    # DAVx5 TRANSPARENT reminder Monday 30 March 09:00-12:00: shown, but free for bookings.
    ("davx5_transparent_reminder.ics", "2026-03-30", "2026-03-31", []),
    # Floating 14:00 (no time zone): read as Zurich time, the practice's zone.
    ("floating_time_export.ics", "2026-03-30", "2026-03-31", ["Mon 14:00-14:50"]),
    # Google, Thursday 09:00-10:00 New York, COUNT=6 from 5 March. The US changes to summer
    # time on 8 March, Europe on 29 March: for three weeks the call is an hour earlier here.
    ("google_new_york_weekly.ics", "2026-03-05", "2026-03-06", ["Thu 15:00-16:00"]),
    ("google_new_york_weekly.ics", "2026-03-12", "2026-03-13", ["Thu 14:00-15:00"]),
    ("google_new_york_weekly.ics", "2026-04-02", "2026-04-03", ["Thu 15:00-16:00"]),
    ("google_new_york_weekly.ics", "2026-04-16", "2026-04-17", []),
    # Evolution weekly Wednesday 18:00-19:30 COUNT=4 from 1 April, RDATE Sat 11 April 10:00
    # and Wed 20 May 18:00 (after the last weekly one, 22 April).
    ("evolution_rdate_extra_sessions.ics", "2026-04-11", "2026-04-12", ["Sat 10:00-11:30"]),
    ("evolution_rdate_extra_sessions.ics", "2026-04-29", "2026-04-30", []),
    ("evolution_rdate_extra_sessions.ics", "2026-05-20", "2026-05-21", ["Wed 18:00-19:30"]),
    # Outlook, TZID "W. Europe Standard Time" 13:00-14:00.
    ("outlook_windows_tzid.ics", "2026-03-31", "2026-04-01", ["Tue 13:00-14:00"]),
]


@pytest.mark.parametrize(("name", "first", "last", "expected"), BUSY_DAYS)
def test_busy_blocks_at_the_local_time_the_calendar_app_shows(
    calendar_file: OpenCalendar, name: str, first: str, last: str, expected: list[str]
) -> None:
    assert blocks([calendar_file(name)], first, last) == expected


def test_one_week_of_every_client_together_is_sorted(calendar_file: OpenCalendar) -> None:
    calendars = [
        calendar_file(name)
        for name in (
            "apple_weekly_supervision.ics",
            "apple_cancelled_occurrence.ics",
            "thunderbird_intervision_until.ics",
            "davx5_transparent_reminder.ics",
            "floating_time_export.ics",
            "google_new_york_weekly.ics",
            "evolution_rdate_extra_sessions.ics",
            "outlook_windows_tzid.ics",
        )
    ]
    assert blocks(calendars, "2026-03-30", "2026-04-06") == [
        "Mon 08:00-08:50",  # group therapy (Apple)
        "Mon 14:00-14:50",  # floating export; the transparent 09:00-12:00 reminder is free
        "Tue 13:00-14:00",  # Outlook
        "Tue 17:00-18:30",  # Thunderbird
        "Wed 18:00-19:30",  # Evolution
        "Thu 15:00-16:00",  # New York call; the Apple supervision moved to Friday
        "Fri 14:00-14:50",  # Apple supervision, moved
    ]


def test_a_weekly_series_keeps_its_local_time_across_both_dst_changes(
    calendar_file: OpenCalendar,
) -> None:
    found = busy_intervals(
        [calendar_file("apple_weekly_supervision.ics")],
        at("2026-03-01 00:00"),
        at("2026-12-01 00:00"),
        ZURICH,
    )
    assert {shown(i) for i in found} == {"Thu 10:00-10:50", "Fri 14:00-14:50"}
    utc_starts = {f"{i.start.astimezone(UTC):%m-%d %H:%M}" for i in found}
    assert {"03-26 09:00", "04-09 08:00", "10-22 08:00", "10-29 09:00"} <= utc_starts
    assert len(found) == 38  # 39 Thursdays from 5 March to 26 November, minus the EXDATE


def test_an_all_day_event_on_the_spring_dst_sunday_blocks_23_hours(
    calendar_file: OpenCalendar,
) -> None:
    found = busy_intervals(
        [calendar_file("davx5_allday_dst_spring.ics")],
        at("2026-03-29 12:00"),
        at("2026-03-29 13:00"),
        ZURICH,
    )
    assert found == [Interval(at("2026-03-29 00:00"), at("2026-03-30 00:00"))]
    assert hours(found[0]) == 23


def test_all_day_holidays_over_the_autumn_dst_sunday_block_24_25_24_hours(
    calendar_file: OpenCalendar,
) -> None:
    holidays = calendar_file("davx5_holidays_autumn.ics")
    # Not clipped: a window in the middle of the holidays gets the whole block.
    found = busy_intervals([holidays], at("2026-10-25 12:00"), at("2026-10-25 13:00"), ZURICH)
    assert found == [Interval(at("2026-10-24 00:00"), at("2026-10-27 00:00"))]
    assert hours(found[0]) == 24 + 25 + 24


def test_a_transparent_event_is_shown_but_does_not_block(calendar_file: OpenCalendar) -> None:
    reminder = calendar_file("davx5_transparent_reminder.ics")
    window = (at("2026-03-30 00:00"), at("2026-03-31 00:00"))
    assert busy_intervals([reminder], *window, ZURICH) == []
    [occurrence] = event_occurrences([reminder], *window, ZURICH)
    assert shown(occurrence.interval) == "Mon 09:00-12:00"
    assert not occurrence.blocks_time


def test_a_cancelled_occurrence_is_listed_as_not_blocking(calendar_file: OpenCalendar) -> None:
    group = calendar_file("apple_cancelled_occurrence.ics")
    found = event_occurrences([group], at("2026-04-06 00:00"), at("2026-04-07 00:00"), ZURICH)
    assert [(shown(o.interval), o.blocks_time) for o in found] == [("Mon 08:00-08:50", False)]
    assert found[0].recurrence_id == at("2026-04-06 08:00").astimezone(UTC)


def test_a_block_that_began_before_the_window_keeps_its_true_start() -> None:
    night = event(
        "DTSTART;TZID=Europe/Zurich:20260330T070000", "DTEND;TZID=Europe/Zurich:20260330T090000"
    )
    found = busy_intervals([night], at("2026-03-30 08:00"), at("2026-03-30 12:00"), ZURICH)
    assert found == [Interval(at("2026-03-30 07:00"), at("2026-03-30 09:00"))]


SINGLE_EVENTS = [
    # (properties after UID and DTSTAMP, blocks on Monday 30 March 2026)
    (("DTSTART:20260330T120000Z", "DTEND:20260330T130000Z"), ["Mon 14:00-15:00"]),
    (("DTSTART;TZID=Europe/Zurich:20260330T100000", "DURATION:PT1H30M"), ["Mon 10:00-11:30"]),
    (("DTSTART;VALUE=DATE:20260330",), ["Mon 30.03. 00:00-Tue 31.03. 00:00"]),
    (("DTSTART;VALUE=DATE:20260330", "DURATION:P1D"), ["Mon 30.03. 00:00-Tue 31.03. 00:00"]),
    (("DTSTART:20260330T100000Z",), []),  # no DTEND, no DURATION: zero length, blocks nothing
    (("DTSTART:20260330T100000Z", "DTEND:20260330T110000Z", "STATUS:CANCELLED"), []),
    (("DTSTART:20260330T100000Z", "DTEND:20260330T110000Z", "STATUS:cancelled"), []),
    (("DTSTART:20260330T100000Z", "DTEND:20260330T110000Z", "TRANSP:transparent"), []),
    (
        ("DTSTART:20260330T100000Z", "DTEND:20260330T110000Z", "STATUS:TENTATIVE"),
        ["Mon 12:00-13:00"],
    ),
    # A series that ended last year: its own span rules it out before any expansion.
    (("DTSTART:20250106T100000Z", "DTEND:20250106T110000Z", "RRULE:FREQ=DAILY;COUNT=30"), []),
]


@pytest.mark.parametrize(("properties", "expected"), SINGLE_EVENTS)
def test_single_events(properties: tuple[str, ...], expected: list[str]) -> None:
    assert blocks([event(*properties)], "2026-03-30", "2026-03-31") == expected


def test_a_fully_cancelled_series_blocks_nothing() -> None:
    series = event(
        "DTSTART;TZID=Europe/Zurich:20260302T080000",
        "DTEND;TZID=Europe/Zurich:20260302T090000",
        "RRULE:FREQ=DAILY",
        "STATUS:CANCELLED",
    )
    assert blocks([series], "2026-03-30", "2026-04-06") == []


def test_custom_time_zones_of_two_outlook_calendars_block_at_their_own_times() -> None:
    def customized(offset: str) -> icalendar.Calendar:
        zone = (
            "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\nBEGIN:STANDARD\r\n"
            f"DTSTART:16010101T000000\r\nTZOFFSETFROM:{offset}\r\nTZOFFSETTO:{offset}\r\n"
            "END:STANDARD\r\nEND:VTIMEZONE\r\n"
        )
        body = (
            "BEGIN:VEVENT\r\nUID:c@test\r\nDTSTAMP:20260301T000000Z\r\n"
            "DTSTART;TZID=Customized Time Zone:20260320T100000\r\n"
            "DTEND;TZID=Customized Time Zone:20260320T110000\r\nEND:VEVENT\r\n"
        )
        return parse_calendar(
            f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{zone}{body}END:VCALENDAR\r\n"
        )

    assert blocks([customized("+0100"), customized("-0500")], "2026-03-20", "2026-03-21") == [
        "Fri 10:00-11:00",
        "Fri 16:00-17:00",
    ]


def test_the_window_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        busy_intervals([], datetime(2026, 3, 30), at("2026-03-31 00:00"), ZURICH)

"""The UTC span a stored item is indexed by (``series_span``).

A time-range query (a CalDAV REPORT, the busy time of a booking page) only looks at items
whose span intersects it: a span that is too short hides an appointment from the therapist's
phone and lets a patient book over it. Expected values are written in Zurich local time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caldav_bridge.busy import SPAN_MIN, busy_intervals, series_span
from caldav_bridge.ical import parse_calendar

ZURICH = ZoneInfo("Europe/Zurich")
NEW_YORK = ZoneInfo("America/New_York")
OpenCalendar = Callable[[str], icalendar.Calendar]


def at(local: str) -> datetime:
    """``"2026-03-30 14:00"`` in Zurich."""
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZURICH)


def span(calendar: icalendar.Calendar) -> tuple[datetime, datetime | None]:
    start, end = series_span(calendar, ZURICH)
    assert start.utcoffset() == timedelta(0)
    assert end is None or end.utcoffset() == timedelta(0)
    return start, end


def component(*lines: str, kind: str = "VEVENT") -> icalendar.Calendar:
    body = "\r\n".join((f"BEGIN:{kind}", "UID:a@test", "DTSTAMP:20260301T000000Z", *lines))
    return parse_calendar(
        f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}\r\nEND:{kind}\r\nEND:VCALENDAR"
    )


def with_overrides(*events: tuple[str, ...]) -> icalendar.Calendar:
    blocks = [
        "\r\n".join(("BEGIN:VEVENT", "UID:a@test", "DTSTAMP:20260301T000000Z", *e, "END:VEVENT"))
        for e in events
    ]
    return parse_calendar(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        + "\r\n".join(blocks)
        + "\r\nEND:VCALENDAR\r\n"
    )


# (file, first start, last end or None for a series without end), in Zurich time
FILE_SPANS = [
    ("apple_weekly_supervision.ics", "2026-03-05 10:00", None),  # weekly, no end
    ("apple_cancelled_occurrence.ics", "2026-03-09 08:00", None),  # weekly, no end
    # UNTIL 28 April, whose occurrence is moved past UNTIL to Wednesday 6 May.
    ("thunderbird_intervision_until.ics", "2026-03-03 17:00", "2026-05-06 18:30"),
    ("davx5_holidays_autumn.ics", "2026-10-24 00:00", "2026-10-27 00:00"),  # all-day, 3 days
    ("davx5_allday_dst_spring.ics", "2026-03-29 00:00", "2026-03-30 00:00"),  # 23-hour day
    # Transparent events are indexed too: a CalDAV client still asks for them.
    ("davx5_transparent_reminder.ics", "2026-03-30 09:00", "2026-03-30 12:00"),
    ("floating_time_export.ics", "2026-03-30 14:00", "2026-03-30 14:50"),  # DURATION, floating
    # COUNT=6 in New York: 5 March 09:00 EST to 9 April 10:00 EDT.
    ("google_new_york_weekly.ics", "2026-03-05 15:00", "2026-04-09 16:00"),
    # COUNT=4 ends 22 April; the RDATE of 20 May is later.
    ("evolution_rdate_extra_sessions.ics", "2026-04-01 18:00", "2026-05-20 19:30"),
    ("outlook_windows_tzid.ics", "2026-03-31 13:00", "2026-03-31 14:00"),
]


@pytest.mark.parametrize(("name", "first", "last"), FILE_SPANS)
def test_span_of_client_output(
    calendar_file: OpenCalendar, name: str, first: str, last: str | None
) -> None:
    assert span(calendar_file(name)) == (at(first), None if last is None else at(last))


SPANS = [
    # (lines of one VEVENT, first start, last end), Zurich time
    (("DTSTART:20260330T100000Z", "DURATION:PT45M"), "2026-03-30 12:00", "2026-03-30 12:45"),
    (("DTSTART;VALUE=DATE:20260330",), "2026-03-30 00:00", "2026-03-31 00:00"),  # 1 day
    (("DTSTART:20260330T100000Z",), "2026-03-30 12:00", "2026-03-30 12:00"),  # 0 long
    (
        ("DTSTART;VALUE=DATE:20260302", "RRULE:FREQ=WEEKLY;UNTIL=20260330"),
        "2026-03-02 00:00",
        "2026-03-31 00:00",
    ),
    (
        ("DTSTART;VALUE=DATE:20260302", "DTEND;VALUE=DATE:20260304", "RRULE:FREQ=DAILY;COUNT=3"),
        "2026-03-02 00:00",
        "2026-03-06 00:00",
    ),
    (  # the last of the COUNT occurrences is excluded: the span ends one week earlier
        (
            "DTSTART;TZID=Europe/Zurich:20260302T100000",
            "DTEND;TZID=Europe/Zurich:20260302T110000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Zurich:20260323T100000",
        ),
        "2026-03-02 10:00",
        "2026-03-16 11:00",
    ),
    (  # RDATE with a PERIOD that ends later than the weekly ones
        (
            "DTSTART;TZID=Europe/Zurich:20260302T100000",
            "DTEND;TZID=Europe/Zurich:20260302T110000",
            "RRULE:FREQ=WEEKLY;COUNT=2",
            "RDATE;VALUE=PERIOD:20260310T120000Z/PT8H",
        ),
        "2026-03-02 10:00",
        "2026-03-10 21:00",
    ),
    (  # an RDATE before DTSTART
        ("DTSTART:20260330T100000Z", "DURATION:PT1H", "RDATE:20260301T090000Z"),
        "2026-03-01 10:00",
        "2026-03-30 13:00",
    ),
]


@pytest.mark.parametrize(("lines", "first", "last"), SPANS)
def test_span(lines: tuple[str, ...], first: str, last: str) -> None:
    assert span(component(*lines)) == (at(first), at(last))


def test_an_until_series_ends_at_most_one_dst_change_after_its_last_occurrence() -> None:
    series = component(
        "DTSTART;TZID=Europe/Zurich:20260302T100000",
        "DTEND;TZID=Europe/Zurich:20260302T110000",
        "RRULE:FREQ=WEEKLY;UNTIL=20260330T080000Z",  # 30 March 10:00 CEST, the last one
    )
    start, end = span(series)
    assert start == at("2026-03-02 10:00")
    assert end is not None
    assert at("2026-03-30 11:00") <= end <= at("2026-03-30 12:00")


def test_an_occurrence_moved_before_the_series_starts_moves_the_span_start() -> None:
    series = with_overrides(
        ("DTSTART:20260309T090000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=3"),
        ("RECURRENCE-ID:20260316T090000Z", "DTSTART:20260302T070000Z", "DURATION:PT1H"),
    )
    assert span(series) == (at("2026-03-02 08:00"), at("2026-03-23 11:00"))


def test_this_and_future_changes_leave_the_end_open() -> None:
    series = with_overrides(
        ("DTSTART:20260309T090000Z", "DURATION:PT1H", "RRULE:FREQ=WEEKLY;COUNT=3"),
        ("RECURRENCE-ID;RANGE=THISANDFUTURE:20260316T090000Z", "DTSTART:20260318T090000Z"),
    )
    assert span(series) == (at("2026-03-09 10:00"), None)


def test_all_day_and_floating_times_use_the_default_time_zone() -> None:
    day = component("DTSTART;VALUE=DATE:20260329")
    assert series_span(day, NEW_YORK) == (
        datetime(2026, 3, 29, 4, tzinfo=UTC),
        datetime(2026, 3, 30, 4, tzinfo=UTC),
    )
    floating = component("DTSTART:20260329T090000", "DURATION:PT1H")
    assert series_span(floating, NEW_YORK)[0] == datetime(2026, 3, 29, 13, tzinfo=UTC)


TASK_SPANS = [
    # (kind, lines, first start, last end or None)
    ("VTODO", ("DUE:20260330T150000Z",), "2026-03-30 17:00", "2026-03-30 17:00"),
    (
        "VTODO",
        ("DTSTART:20260330T080000Z", "DURATION:PT2H"),
        "2026-03-30 10:00",
        "2026-03-30 12:00",
    ),
    (
        "VTODO",
        ("DTSTART:20260330T080000Z", "DUE:20260403T080000Z"),
        "2026-03-30 10:00",
        "2026-04-03 10:00",
    ),
    ("VTODO", ("DTSTART:20260330T080000Z", "RRULE:FREQ=MONTHLY"), "2026-03-30 10:00", None),
    ("VJOURNAL", ("DTSTART;VALUE=DATE:20260330",), "2026-03-30 00:00", "2026-03-31 00:00"),
]


@pytest.mark.parametrize(("kind", "lines", "first", "last"), TASK_SPANS)
def test_tasks_and_journals_span_their_dates(
    kind: str, lines: tuple[str, ...], first: str, last: str | None
) -> None:
    expected = (at(first), None if last is None else at(last))
    assert span(component(*lines, kind=kind)) == expected


def test_a_task_without_dates_is_always_a_candidate() -> None:
    assert span(component("SUMMARY:Rechnung schreiben", kind="VTODO")) == (SPAN_MIN, None)


# Property: for any weekly series with EXDATEs, busy time only ever falls inside its span,
# so an index by span never hides a busy block; and an EXDATE'd occurrence stays free.

ZONES = ["Europe/Zurich", "America/New_York", "UTC", "floating", "all-day"]


def ical_time(moment: datetime, zone: str) -> str:
    """``DTSTART``-style property suffix for a wall-clock moment in ``zone``."""
    if zone == "all-day":
        return f";VALUE=DATE:{moment:%Y%m%d}"
    if zone == "floating":
        return f":{moment:%Y%m%dT%H%M%S}"
    if zone == "UTC":
        return f":{moment:%Y%m%dT%H%M%S}Z"
    return f";TZID={zone}:{moment:%Y%m%dT%H%M%S}"


def until_value(moment: datetime, zone: str) -> str:
    """UNTIL as RFC 5545 wants it: a DATE, floating, or UTC when DTSTART has a zone."""
    if zone == "all-day":
        return f"{moment:%Y%m%d}"
    if zone == "floating":
        return f"{moment:%Y%m%dT%H%M%S}"
    local = moment.replace(tzinfo=ZoneInfo("UTC" if zone == "UTC" else zone))
    return f"{local.astimezone(UTC):%Y%m%dT%H%M%S}Z"


@st.composite
def weekly_series(draw: st.DrawFn) -> tuple[str, list[str]]:
    """iCalendar text of a random weekly series, and the EXDATE'd local starts (Zurich)."""
    zone = draw(st.sampled_from(ZONES))
    day = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 700)))
    first = datetime(
        day.year,
        day.month,
        day.day,
        draw(st.integers(0, 23)),
        draw(st.sampled_from([0, 15, 30, 45])),
    )
    if zone == "all-day":
        first = first.replace(hour=0, minute=0)
        length = timedelta(days=draw(st.integers(1, 3)))
    else:
        length = timedelta(minutes=draw(st.integers(0, 24 * 60)))
    rule = "FREQ=WEEKLY"
    ending = draw(st.sampled_from(["never", "count", "until"]))
    if ending == "count":
        rule += f";COUNT={draw(st.integers(1, 80))}"
    elif ending == "until":
        rule += f";UNTIL={until_value(first + timedelta(weeks=draw(st.integers(0, 80))), zone)}"
    excluded = sorted(draw(st.sets(st.integers(0, 80), max_size=8)))
    lines = [
        f"DTSTART{ical_time(first, zone)}",
        f"DTEND{ical_time(first + length, zone)}",
        f"RRULE:{rule}",
        *(f"EXDATE{ical_time(first + timedelta(weeks=k), zone)}" for k in excluded),
    ]
    body = "\r\n".join(
        ("BEGIN:VEVENT", "UID:p@test", "DTSTAMP:20260101T000000Z", *lines, "END:VEVENT")
    )
    text = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n{body}\r\nEND:VCALENDAR\r\n"
    zone_of_start = ZURICH if zone in ("floating", "all-day") else ZoneInfo(zone)
    free = [
        (first + timedelta(weeks=k)).replace(tzinfo=zone_of_start).astimezone(ZURICH).isoformat()
        for k in excluded
    ]
    return text, free


@settings(deadline=None)
@given(
    series=weekly_series(),
    offset=st.integers(-30, 700),
    days=st.integers(1, 60),
)
def test_busy_time_of_a_weekly_series_lies_inside_its_span(
    series: tuple[str, list[str]], offset: int, days: int
) -> None:
    text, excluded = series
    calendar = parse_calendar(text)
    start, end = series_span(calendar, ZURICH)
    window_start = datetime(2026, 1, 1, tzinfo=ZURICH) + timedelta(days=offset)
    busy = busy_intervals([calendar], window_start, window_start + timedelta(days=days), ZURICH)
    for interval in busy:
        assert start <= interval.start
        assert end is None or interval.end <= end
        assert interval.start.isoformat() not in excluded

"""Open periods from weekly hours and date exceptions, in Europe/Zurich local time."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from caldav_bridge.intervals import Interval, as_utc
from caldav_bridge.opening_hours import (
    DateException,
    TimeRange,
    WeeklyHours,
    local_instant,
    open_periods,
)

ZURICH = ZoneInfo("Europe/Zurich")


def hours(*ranges: str) -> tuple[TimeRange, ...]:
    """``hours("08:00-12:00", "14:00-18:00")``."""
    parsed = []
    for text in ranges:
        start, end = text.split("-")
        parsed.append(TimeRange(time.fromisoformat(start), time.fromisoformat(end)))
    return tuple(parsed)


# Anne's hours in config/practice.toml.
ANNE: WeeklyHours = {
    0: hours("08:00-12:00", "14:00-18:00"),
    1: hours("08:00-12:00", "14:00-18:00"),
    2: hours("14:00-18:00"),
    3: hours("08:00-12:00", "14:00-18:00"),
    4: hours("08:00-12:00", "14:00-18:00"),
}


def local(periods: list[Interval]) -> list[str]:
    return [f"{p.start:%a %m-%d %H:%M}-{p.end:%H:%M}" for p in periods]


def test_weekly_hours_give_each_days_periods_in_order() -> None:
    periods = open_periods(ANNE, [], ZURICH, date(2026, 11, 30), date(2026, 12, 6))
    assert local(periods) == [
        "Mon 11-30 08:00-12:00", "Mon 11-30 14:00-18:00",
        "Tue 12-01 08:00-12:00", "Tue 12-01 14:00-18:00",
        "Wed 12-02 14:00-18:00",
        "Thu 12-03 08:00-12:00", "Thu 12-03 14:00-18:00",
        "Fri 12-04 08:00-12:00", "Fri 12-04 14:00-18:00",
    ]  # fmt: skip


def test_first_and_last_dates_are_both_included() -> None:
    periods = open_periods(ANNE, [], ZURICH, date(2026, 12, 2), date(2026, 12, 3))
    assert local(periods) == [
        "Wed 12-02 14:00-18:00",
        "Thu 12-03 08:00-12:00",
        "Thu 12-03 14:00-18:00",
    ]


def test_closed_exception_range_removes_the_holidays() -> None:
    holidays = DateException(date(2026, 12, 24), date(2027, 1, 3), note="Fêtes")
    periods = open_periods(ANNE, [holidays], ZURICH, date(2026, 12, 23), date(2027, 1, 4))
    assert local(periods) == [
        "Wed 12-23 14:00-18:00",
        "Mon 01-04 08:00-12:00",
        "Mon 01-04 14:00-18:00",
    ]


def test_special_hours_replace_the_days_weekly_hours() -> None:
    exceptions = [
        DateException(date(2026, 12, 7), date(2026, 12, 7), hours("09:00-11:00")),  # a Monday
        DateException(date(2026, 12, 6), date(2026, 12, 6), hours("10:00-12:00")),  # a Sunday
    ]
    periods = open_periods(ANNE, exceptions, ZURICH, date(2026, 12, 6), date(2026, 12, 7))
    assert local(periods) == ["Sun 12-06 10:00-12:00", "Mon 12-07 09:00-11:00"]


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        pytest.param("closed, then special", ["Wed 12-23 09:00-12:00"], id="special listed last"),
        pytest.param("special, then closed", [], id="closed listed last"),
    ],
)
def test_the_last_listed_exception_wins(order: str, expected: list[str]) -> None:
    closed = DateException(date(2026, 12, 21), date(2026, 12, 31))
    special = DateException(date(2026, 12, 23), date(2026, 12, 23), hours("09:00-12:00"))
    exceptions = [closed, special] if order.startswith("closed") else [special, closed]
    periods = open_periods(ANNE, exceptions, ZURICH, date(2026, 12, 22), date(2026, 12, 24))
    assert local(periods) == expected


@pytest.mark.parametrize(
    "day", [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)], ids=str
)
def test_usual_hours_on_dst_days_are_the_usual_local_times(day: date) -> None:
    weekly = {day.weekday(): hours("08:00-12:00", "14:00-18:00")}
    periods = open_periods(weekly, [], ZURICH, day, day)
    assert [f"{p.start:%H:%M}-{p.end:%H:%M}" for p in periods] == ["08:00-12:00", "14:00-18:00"]
    assert [as_utc(p.end) - as_utc(p.start) for p in periods] == [timedelta(hours=4)] * 2


@pytest.mark.parametrize(
    ("day", "night", "expected", "length"),
    [
        pytest.param(
            date(2026, 3, 29), "01:00-04:00", "01:00+0100-04:00+0200", 2, id="spring: 2 hours"
        ),
        pytest.param(
            date(2026, 3, 29), "02:30-05:00", "03:00+0200-05:00+0200", 2, id="spring: start in gap"
        ),
        pytest.param(
            date(2026, 3, 29), "00:00-02:30", "00:00+0100-03:00+0200", 2, id="spring: end in gap"
        ),
        pytest.param(
            date(2026, 10, 25), "01:00-04:00", "01:00+0200-04:00+0100", 4, id="autumn: 4 hours"
        ),
        pytest.param(
            date(2026, 10, 25),
            "02:30-05:00",
            "02:30+0200-05:00+0100",
            3.5,
            id="autumn: first 02:30",
        ),
    ],
)
def test_periods_across_a_dst_change(day: date, night: str, expected: str, length: float) -> None:
    (period,) = open_periods({day.weekday(): hours(night)}, [], ZURICH, day, day)
    assert f"{period.start:%H:%M%z}-{period.end:%H:%M%z}" == expected
    assert as_utc(period.end) - as_utc(period.start) == timedelta(hours=length)


def test_a_period_entirely_in_the_skipped_hour_is_closed() -> None:
    day = date(2026, 3, 29)
    weekly = {day.weekday(): hours("02:10-02:50", "08:00-09:00")}
    assert local(open_periods(weekly, [], ZURICH, day, day)) == ["Sun 03-29 08:00-09:00"]


def test_nonexistent_wall_time_resolves_to_the_transition() -> None:
    moment = local_instant(date(2027, 3, 28), time(2, 45), ZURICH)
    assert moment.isoformat() == "2027-03-28T03:00:00+02:00"

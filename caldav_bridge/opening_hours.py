"""A therapist's opening hours: weekly periods, date exceptions, and the open periods they give."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from caldav_bridge.intervals import Interval, as_utc

_DAY = timedelta(days=1)
_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A local wall-clock range within one day, e.g. 14:00-18:00 (``start < end``)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True, slots=True)
class DateException:
    """Different hours from ``first`` to ``last`` (inclusive); no hours means closed."""

    first: date
    last: date
    hours: tuple[TimeRange, ...] = ()
    note: str = ""


# Weekday (0 = Monday ... 6 = Sunday) -> the day's periods, sorted; a gap between two is a break.
WeeklyHours = Mapping[int, tuple[TimeRange, ...]]


def open_periods(
    weekly: WeeklyHours,
    exceptions: Sequence[DateException],
    tz: tzinfo,
    first: date,
    last: date,
) -> list[Interval]:
    """The open periods of each local date from ``first`` to ``last`` (inclusive), by start.

    A date covered by an exception has the exception's hours (none: closed); when several
    exceptions cover a date, the last one listed wins. Wall times are resolved in ``tz`` with
    :func:`local_instant`; a period that DST leaves empty (inside a skipped hour) is dropped.
    """
    special = _exception_hours(exceptions, first, last)
    periods: list[Interval] = []
    day = first
    while day <= last:
        for hours in special.get(day, weekly.get(day.weekday(), ())):
            period = Interval(
                local_instant(day, hours.start, tz), local_instant(day, hours.end, tz)
            )
            if as_utc(period.start) < as_utc(period.end):
                periods.append(period)
        day += _DAY
    return sorted(periods, key=lambda period: as_utc(period.start))


def local_instant(day: date, wall: time, tz: tzinfo) -> datetime:
    """The instant at which clocks in ``tz`` show ``wall`` on ``day``.

    A wall time that occurs twice (fall-back) gives its first occurrence; one that does not
    occur (spring-forward gap) gives the instant of the transition, i.e. the end of the gap.
    """
    moment = datetime.combine(day, wall.replace(tzinfo=None, fold=0), tzinfo=tz)
    if _wall(as_utc(moment).astimezone(tz)) == _wall(moment):
        return moment
    return _transition_within(moment, tz)


def _exception_hours(
    exceptions: Sequence[DateException], first: date, last: date
) -> dict[date, tuple[TimeRange, ...]]:
    """The hours of each date from ``first`` to ``last`` that some exception covers."""
    hours: dict[date, tuple[TimeRange, ...]] = {}
    for exception in exceptions:
        day = max(exception.first, first)
        while day <= min(exception.last, last):
            hours[day] = exception.hours
            day += _DAY
    return hours


def _transition_within(skipped: datetime, tz: tzinfo) -> datetime:
    """The transition instant of the gap that contains the nonexistent wall time ``skipped``.

    The two readings of ``skipped`` (offset before / after the transition) bracket the
    transition; bisect between them to the second (zone transitions fall on whole seconds).
    """
    before, after = sorted(as_utc(skipped.replace(fold=fold)) for fold in (0, 1))
    offset_after = after.astimezone(tz).utcoffset()
    low, high = 0, (after - before) // _SECOND
    while high - low > 1:
        middle = (low + high) // 2
        if (before + middle * _SECOND).astimezone(tz).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return (before + high * _SECOND).astimezone(tz)


def _wall(moment: datetime) -> datetime:
    """The wall-clock reading of ``moment``, without zone."""
    return moment.replace(tzinfo=None)

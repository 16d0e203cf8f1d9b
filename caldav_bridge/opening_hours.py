"""A therapist's opening hours: weekly periods, date exceptions, and the open periods they give."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time


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

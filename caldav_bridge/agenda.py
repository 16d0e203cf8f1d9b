"""A day or a week of a therapist's calendar, laid out for reading (pure).

`agenda_days` sorts entries (appointments and the therapist's other events, occurrences of
recurring ones already expanded) into the local days of the practice's zone. A day runs from
local midnight to the next local midnight, so a DST day has 23 or 25 hours and an entry is
shown at its real local times on it. An entry that runs over midnight appears on every day
it touches, marked as continuing; all-day entries are listed apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Literal

from caldav_bridge.intervals import Interval

Kind = Literal["appointment", "event"]
APPOINTMENT: Kind = "appointment"
EVENT: Kind = "event"
DAY_VIEW, WEEK_VIEW = "day", "week"


@dataclass(frozen=True)
class Entry:
    """One occurrence in the agenda."""

    uid: str
    start: datetime  # aware; the whole occurrence, not clipped to a day
    end: datetime
    all_day: bool
    title: str  # "" when the event has none
    kind: Kind
    blocks_time: bool  # False: transparent ("free") or cancelled
    cancelled: bool
    calendar: str  # the display name of the calendar it is in
    appointment: str | None = None  # the UID of the therapist's appointment, to link to it
    recurring: bool = False

    @property
    def key(self) -> str:
        """Names this occurrence: the UID and the start in UTC."""
        return f"{self.uid}@{self.start.astimezone(UTC).isoformat()}"


@dataclass(frozen=True)
class DayEntry:
    entry: Entry
    start: datetime  # the part of the entry on this day, in the practice's zone
    end: datetime
    continued: bool  # began on an earlier day
    continues: bool  # goes on after this day


@dataclass(frozen=True)
class AgendaDay:
    day: date
    is_today: bool
    hours: int  # the day's length in hours: 23 or 25 on a DST day
    open_periods: tuple[Interval, ...]
    all_day: tuple[Entry, ...]
    timed: tuple[DayEntry, ...]

    @property
    def empty(self) -> bool:
        return not self.all_day and not self.timed


def day_bounds(day: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """Local midnight of ``day`` and of the next day, as aware datetimes in ``tz``."""
    return _midnight(day, tz), _midnight(day + timedelta(days=1), tz)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def view_days(view: str, day: date) -> tuple[date, int]:
    """The first day and the number of days of the day or week view that shows ``day``."""
    return (monday_of(day), 7) if view == WEEK_VIEW else (day, 1)


def agenda_days(
    entries: Iterable[Entry],
    first: date,
    days: int,
    tz: tzinfo,
    today: date,
    open_periods: Sequence[Interval] = (),
) -> list[AgendaDay]:
    """The days ``first`` .. ``first + days - 1`` with the entries that touch each of them."""
    ordered = sorted(entries, key=lambda e: (_utc(e.start), _utc(e.end), e.title, e.uid))
    found: list[AgendaDay] = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        start, end = day_bounds(day, tz)
        found.append(
            AgendaDay(
                day=day,
                is_today=day == today,
                hours=round((_utc(end) - _utc(start)) / timedelta(hours=1)),
                open_periods=tuple(p for p in open_periods if _on(p.start, p.end, start, end)),
                all_day=tuple(e for e in ordered if e.all_day and _on_dates(e, day, tz)),
                timed=tuple(
                    _part(e, start, end, tz)
                    for e in ordered
                    if not e.all_day and _on(e.start, e.end, start, end)
                ),
            )
        )
    return found


def _midnight(day: date, tz: tzinfo) -> datetime:
    # Through UTC, so that a midnight that a DST change skips becomes the real instant.
    return datetime.combine(day, time(), tz).astimezone(UTC).astimezone(tz)


def _on(start: datetime, end: datetime, day_start: datetime, day_end: datetime) -> bool:
    s, e = _utc(start), _utc(end)
    if s == e:
        return _utc(day_start) <= s < _utc(day_end)
    return s < _utc(day_end) and e > _utc(day_start)


def _on_dates(entry: Entry, day: date, tz: tzinfo) -> bool:
    """An all-day entry covers the local dates from its start up to, excluding, its end."""
    first = entry.start.astimezone(tz).date()
    last = entry.end.astimezone(tz).date()
    return first <= day < max(last, first + timedelta(days=1))


def _part(entry: Entry, day_start: datetime, day_end: datetime, tz: tzinfo) -> DayEntry:
    continued = _utc(entry.start) < _utc(day_start)
    continues = _utc(entry.end) > _utc(day_end)
    return DayEntry(
        entry=entry,
        start=(day_start if continued else entry.start).astimezone(tz),
        end=(day_end if continues else entry.end).astimezone(tz),
        continued=continued,
        continues=continues,
    )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)

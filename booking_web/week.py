"""The week view of the booking and reschedule pages: which days have free slots, and the
slots of the chosen day. One `find_slots` query per page (two when the current week is full
and the view jumps to the first week with a free slot)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from caldav_bridge.availability import MAX_DAYS, find_slots, slot_query
from caldav_bridge.config import Config
from caldav_bridge.slots import Slot
from caldav_bridge.store import Tx

WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Day:
    day: date
    starts: tuple[datetime, ...]  # distinct free starts, in order


@dataclass(frozen=True)
class WeekView:
    monday: date
    days: tuple[Day, ...]
    previous: date | None  # the previous week's Monday, if it can hold a slot
    next: date | None
    selected: Day | None  # the chosen day, when it is in this week

    @property
    def free_days(self) -> int:
        return sum(1 for day in self.days if day.starts)


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def parse_instant(text: str | None) -> datetime | None:
    """An ISO 8601 instant with its offset, else None (a naive time names no instant)."""
    try:
        moment = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    return moment if moment is not None and moment.utcoffset() is not None else None


def parse_day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def week_view(
    tx: Tx,
    config: Config,
    service: str,
    therapist: str,
    now: datetime,
    *,
    week: date | None = None,
    day: date | None = None,
    moving: str | None = None,
    moving_from: datetime | None = None,
) -> WeekView:
    """The week of ``day`` (else ``week``, else this week or the first one with a free slot)."""
    tz = config.practice.tz
    today = now.astimezone(tz).date()
    first_week = monday_of(today)
    last_week = monday_of((now + config.booking.horizon).astimezone(tz).date())
    wanted = day or week
    monday = min(max(monday_of(wanted), first_week), last_week) if wanted else first_week
    slots = _slots(tx, config, service, therapist, monday, 7, now, moving)
    if not slots and wanted is None:
        later = _slots(tx, config, service, therapist, monday + WEEK, MAX_DAYS, now, moving)
        if later:
            monday = monday_of(later[0].start.astimezone(tz).date())
            slots = [s for s in later if s.start.astimezone(tz).date() < monday + WEEK]
    by_day: dict[date, list[datetime]] = defaultdict(list)
    for slot in slots:
        if moving_from is not None and slot.start == moving_from:
            continue  # the appointment's own time is not a move
        starts = by_day[slot.start.astimezone(tz).date()]
        if slot.start not in starts:
            starts.append(slot.start)
    days = tuple(
        Day(monday + timedelta(days=i), tuple(by_day[monday + timedelta(days=i)])) for i in range(7)
    )
    selected = next((d for d in days if d.day == day), None)
    return WeekView(
        monday=monday,
        days=days,
        previous=monday - WEEK if monday > first_week else None,
        next=monday + WEEK if monday < last_week else None,
        selected=selected,
    )


def _slots(
    tx: Tx,
    config: Config,
    service: str,
    therapist: str,
    first: date,
    days: int,
    now: datetime,
    moving: str | None = None,
) -> list[Slot]:
    query = slot_query(config, service, therapist, first, days)
    return find_slots(tx, config, query, now, moving=moving)

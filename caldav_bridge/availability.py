"""Which slots a service offers: the configuration, the calendars' busy time and the engine.

The one use-case behind the `slots` command, `GET /api/v1/slots`, the booking page and the
booking re-check. Busy time for the whole window and every therapist concerned is read in one
indexed store query, then expanded in memory (CONVENTIONS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import icalendar

from caldav_bridge.busy import busy_intervals
from caldav_bridge.config import BookingPolicy, Config, ServiceConfig
from caldav_bridge.errors import BridgeError
from caldav_bridge.ical import load_calendar
from caldav_bridge.intervals import Interval, as_utc
from caldav_bridge.opening_hours import open_periods
from caldav_bridge.slots import (
    Availability,
    BookingWindow,
    Slot,
    SlotRule,
    offered_slot,
    slots_for_therapists,
)
from caldav_bridge.store import Tx

ANY = "any"
MAX_DAYS = 62


class SlotQueryError(BridgeError):
    """A slot query that cannot be answered; ``parameter`` names the culprit."""

    def __init__(self, parameter: str, message: str, *, not_found: bool = False) -> None:
        super().__init__(message)
        self.parameter = parameter
        self.not_found = not_found


@dataclass(frozen=True)
class SlotQuery:
    service: ServiceConfig
    therapists: tuple[str, ...]
    first: date
    days: int


def slot_query(
    config: Config, service_id: str, therapist: str, first: date, days: int
) -> SlotQuery:
    """Validate a query against the configuration, or raise `SlotQueryError`."""
    service = config.services.get(service_id)
    if service is None or not service.active:
        raise SlotQueryError("service", f"unknown service {service_id!r}", not_found=True)
    offering = tuple(
        login
        for login in service.therapists
        if login in config.therapists and config.therapists[login].active
    )
    if therapist != ANY:
        if therapist not in config.therapists or not config.therapists[therapist].active:
            raise SlotQueryError("therapist", f"unknown therapist {therapist!r}", not_found=True)
        if therapist not in offering:
            raise SlotQueryError(
                "therapist", f"{therapist!r} does not offer the service {service_id!r}"
            )
        offering = (therapist,)
    if not 1 <= days <= MAX_DAYS:
        raise SlotQueryError("days", f"days must be between 1 and {MAX_DAYS}")
    return SlotQuery(service, offering, first, days)


def slot_json(slot: Slot) -> dict[str, str]:
    """A slot as the API and the `slots` command print it (local times with their offset)."""
    return {
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "therapist": slot.therapist,
    }


def slot_rule(service: ServiceConfig) -> SlotRule:
    settings = service.slots
    return SlotRule(
        duration=service.duration,
        availability=Availability(service.availability),
        step=settings.flexible_step,
        fixed_last_slot=settings.fixed_last_slot,
        fixed_anchor=settings.fixed_anchor,
        buffer=settings.buffer,
    )


def booking_window(policy: BookingPolicy) -> BookingWindow:
    return BookingWindow(minimum_notice=policy.minimum_notice, horizon=policy.horizon)


def find_slots(
    tx: Tx, config: Config, query: SlotQuery, now: datetime, *, moving: str | None = None
) -> list[Slot]:
    """The slots of ``query`` as of ``now``, sorted, each naming its therapist.

    ``moving`` is the UID of an appointment being rescheduled: its own time does not block.
    """
    tz = config.practice.tz
    last = query.first + timedelta(days=query.days - 1)
    periods = {
        login: open_periods(
            config.therapists[login].weekly_hours,
            config.therapists[login].exceptions,
            tz,
            query.first,
            last,
        )
        for login in query.therapists
    }
    window = _window(periods, query.service)
    if window is None:
        return []
    busy = busy_by_therapist(tx, query.therapists, window, config, ignore_uid=moving)
    return slots_for_therapists(
        {login: (periods[login], busy[login]) for login in query.therapists},
        slot_rule(query.service),
        booking_window(config.booking),
        now,
    )


def slot_at(
    tx: Tx,
    config: Config,
    service: ServiceConfig,
    therapist: str,
    start: datetime,
    now: datetime,
    *,
    moving: str | None = None,
) -> Slot | None:
    """The slot of ``therapist`` starting at ``start`` if the engine offers it now.

    For the re-check inside a booking's write transaction (which holds the therapist's lock).
    ``moving`` is the UID of an appointment being rescheduled: its own time does not block.
    """
    tz = config.practice.tz
    day = start.astimezone(tz).date()
    settings = config.therapists[therapist]
    periods = open_periods(
        settings.weekly_hours, settings.exceptions, tz, day - timedelta(days=1), day
    )
    window = _window({therapist: periods}, service)
    if window is None:
        return None
    busy = busy_by_therapist(tx, (therapist,), window, config, ignore_uid=moving)[therapist]
    rule, limits = slot_rule(service), booking_window(config.booking)
    return offered_slot(start, periods, busy, rule, limits, now, therapist)


def busy_by_therapist(
    tx: Tx,
    therapists: Sequence[str],
    window: tuple[datetime, datetime],
    config: Config,
    *,
    ignore_uid: str | None = None,
) -> dict[str, list[Interval]]:
    """Each therapist's busy time in ``window``, from all their calendars, in one query."""
    owners = {
        collection.path: login
        for login in therapists
        for collection in tx.child_collections(login)
        if collection.tag == "VCALENDAR"
    }
    busy: dict[str, set[Interval]] = {login: set() for login in therapists}
    buckets = _buckets(*window)
    tz_name = config.practice.timezone_name
    start, end = as_utc(window[0]), as_utc(window[1])
    for item in tx.items_between(owners, *window):
        if item.component != "VEVENT" or item.uid == ignore_uid:
            continue
        found = busy[owners[item.collection_path]]
        for bucket in buckets:
            found.update(
                interval
                for interval in _item_busy(item.etag, item.text, bucket, tz_name)
                if as_utc(interval.start) < end and as_utc(interval.end) > start
            )
    return {login: sorted(found, key=lambda i: as_utc(i.start)) for login, found in busy.items()}


def clear_caches() -> None:
    """Forget parsed calendars and expanded busy time (for benchmarks of a cold start)."""
    _parsed.cache_clear()
    _item_busy.cache_clear()


# Busy time is expanded per item and per aligned bucket of days, and cached by content: a
# recurring series is expanded once per bucket instead of from its first occurrence at every
# request. Items are immutable by etag (a content hash), so the cache is never stale.
_BUCKET = timedelta(days=32)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _buckets(start: datetime, end: datetime) -> list[datetime]:
    """The starts of the aligned buckets that cover ``[start, end)``."""
    first = _EPOCH + ((as_utc(start) - _EPOCH) // _BUCKET) * _BUCKET
    found = [first]
    while found[-1] + _BUCKET < as_utc(end):
        found.append(found[-1] + _BUCKET)
    return found


@lru_cache(maxsize=32768)
def _item_busy(etag: str, text: str, bucket: datetime, tz_name: str) -> tuple[Interval, ...]:
    calendar = _parsed(etag, text)
    return tuple(busy_intervals([calendar], bucket, bucket + _BUCKET, ZoneInfo(tz_name)))


def _window(
    periods: dict[str, list[Interval]], service: ServiceConfig
) -> tuple[datetime, datetime] | None:
    """From the first period's start to the last one's end plus an overrunning slot."""
    every = [p for found in periods.values() for p in found]
    if not every:
        return None
    start = min((p.start for p in every), key=as_utc)
    end = max((p.end for p in every), key=as_utc)
    return start, end + service.duration + service.slots.buffer


@lru_cache(maxsize=4096)
def _parsed(etag: str, text: str) -> icalendar.Calendar:
    """Parsed calendars by content (the etag is a content hash; the text makes it exact)."""
    return load_calendar(text)

"""RFC 4791 time ranges of stored events, answered from our own occurrences, not vobject's.

Radicale filters every candidate of a calendar-query by parsing it with vobject and walking
its recurrences from the first one (a weekly series since 2025 is a hundred steps), at every
request. The storage instead computes an event's occurrences with
`caldav_bridge.busy.event_occurrences` once per 32-day bucket and keeps them by etag
(`storage_objects`), and tells Radicale which candidates match ("simple" matches it does not
filter again).

That answer is given only where it is exactly RFC 4791 section 9.9 and exactly what Radicale
would answer (`exactly_timed`): every time of the object is an aware DATE-TIME in UTC or in an
IANA zone, every occurrence lasts longer than zero, one master component with plain overrides.
Everything else (all-day dates and floating times, which Radicale reads in UTC and the
practice in its own zone; zero-length events, whose edges RFC 4791 treats apart; Windows or
custom TZIDs; X-WR-TIMEZONE; RANGE=THISANDFUTURE) is left to Radicale's own filter.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import icalendar
from icalendar.cal.component import Component

from caldav_bridge.busy import event_occurrences
from caldav_bridge.ical import calendar_items, duration_of, time_of, values_of

BUCKET = timedelta(days=32)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_TIME_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")

Span = tuple[datetime, datetime]
"""One occurrence: its UTC start and end (end > start)."""


def exactly_timed(calendar: icalendar.Calendar) -> bool:
    """Whether the time ranges of this object's occurrences are unambiguous (see above)."""
    if "X-WR-TIMEZONE" in calendar:
        return False
    items = calendar_items(calendar)
    if not items or any(item.name != "VEVENT" for item in items):
        return False
    masters = [item for item in items if "RECURRENCE-ID" not in item]
    if len(masters) != 1:
        return False
    return all(_plain_event(item, is_override=item is not masters[0]) for item in items)


def _plain_event(event: Component, *, is_override: bool) -> bool:
    if not all(
        _aware_in_iana_zone(prop) for name in _TIME_PROPERTIES for prop in values_of(event, name)
    ):
        return False
    if is_override:
        recurrence_id: Any = event["RECURRENCE-ID"]
        if "RANGE" in recurrence_id.params:
            return False
        if any(name in event for name in ("RRULE", "RDATE", "EXDATE")):
            return False
    return _lasts(event)


def _aware_in_iana_zone(prop: Any) -> bool:
    tzid = prop.params.get("TZID")
    if tzid is not None and str(tzid) not in _iana_zones():
        return False
    return all(
        isinstance(value.dt, datetime) and value.dt.tzinfo is not None
        for value in getattr(prop, "dts", [prop])
    )


def _lasts(event: Component) -> bool:
    """Whether every occurrence lasts longer than zero (RFC 4791 treats zero-length apart)."""
    start, end = time_of(event, "DTSTART"), time_of(event, "DTEND")
    if start is None:
        return False
    if end is not None:
        return end > start
    duration = duration_of(event)
    return duration is not None and duration > timedelta(0)


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def buckets(start: datetime, end: datetime) -> Iterator[datetime]:
    """The starts of the aligned 32-day buckets that cover ``[start, end)``."""
    bucket = _EPOCH + ((start - _EPOCH) // BUCKET) * BUCKET
    while bucket < end:
        yield bucket
        bucket += BUCKET


def bucket_spans(calendar: icalendar.Calendar, bucket: datetime, tz: tzinfo) -> tuple[Span, ...]:
    """The occurrences of an `exactly_timed` object that overlap one bucket, whole."""
    found = event_occurrences([calendar], bucket, bucket + BUCKET, tz)
    return tuple((o.interval.start.astimezone(UTC), o.interval.end.astimezone(UTC)) for o in found)


def overlaps(spans: tuple[Span, ...], start: datetime, end: datetime) -> bool:
    """Whether one span overlaps ``[start, end)`` (RFC 4791: start < END and end > START)."""
    return any(low < end and high > start for low, high in spans)

"""Busy time and index spans of parsed iCalendar objects (read by ``caldav_bridge.ical``).

``series_span`` gives the UTC span a store indexes an item by, so that a time-range query only
loads and expands candidates; ``busy_intervals`` turns those candidates into the ``Interval``s
that the slot engine subtracts.

Cost, for n objects with c components and r RDATEs each, and k occurrences in the window:
``busy_intervals`` is O(n * (c + r) + k log k). A plain event (no RRULE/RDATE/EXDATE: most
appointments) is read directly, without recurring_ical_events; a recurring object is first
checked against its own span and only expanded, over the window only, when it can intersect.
Nothing is parsed here: load each stored text once (``ical.load_calendar``) and keep the
``Calendar`` keyed by ETag rather than parsing per request; parsing costs more than this.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
from icalendar.cal.component import Component

from caldav_bridge.errors import ICalendarError
from caldav_bridge.ical import (
    DEFAULT_MAX_COUNT,
    RECURRENCE_PROPERTIES,
    aware_time,
    calendar_items,
    duration_of,
    time_of,
    utc_time,
    values_of,
)
from caldav_bridge.intervals import Interval

SPAN_MIN = datetime.min.replace(tzinfo=UTC)
"""Start of the span of an item without any time (a VTODO without DTSTART and DUE)."""

_FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)
_FOLD_SLACK = timedelta(hours=1)  # how far a DST change can move a wall-clock occurrence


@dataclass(frozen=True, slots=True)
class EventOccurrence:
    """One occurrence of a VEVENT, as the practice calendar sees it."""

    uid: str
    interval: Interval
    """In the default time zone; the whole occurrence, not clipped to the query window."""
    all_day: bool
    blocks_time: bool
    """OPAQUE (TRANSP absent or OPAQUE) and not STATUS:CANCELLED."""
    recurrence_id: datetime | None
    """RECURRENCE-ID of the occurrence in UTC; None for an event that does not recur."""


def busy_intervals(
    calendars: Iterable[icalendar.Calendar], start: datetime, end: datetime, default_tz: tzinfo
) -> list[Interval]:
    """Every time-blocking VEVENT occurrence that overlaps ``[start, end)`` (aware datetimes).

    Blocking: OPAQUE and not cancelled (neither the event nor that occurrence's override).
    RRULE, RDATE, EXDATE and RECURRENCE-ID overrides are applied. All-day events block whole
    local days of ``default_tz`` (23 or 25 hours on a DST day); floating times are read in
    ``default_tz``; times in other zones are converted; a series keeps the wall-clock time of
    its own zone across DST. Intervals are in ``default_tz``, sorted by start, NOT clipped to
    the window (a block that began before ``start`` keeps its true start) and not merged.
    Zero-length events block nothing and are left out.
    """
    return [
        occurrence.interval
        for occurrence in event_occurrences(calendars, start, end, default_tz)
        if occurrence.blocks_time and _length_of(occurrence.interval) > timedelta(0)
    ]


def event_occurrences(
    calendars: Iterable[icalendar.Calendar], start: datetime, end: datetime, default_tz: tzinfo
) -> list[EventOccurrence]:
    """Every VEVENT occurrence overlapping ``[start, end)``, blocking or not, sorted by start.

    A zero-length occurrence is included when it starts inside the window.
    """
    if start.utcoffset() is None or end.utcoffset() is None:
        raise ValueError("event_occurrences needs aware datetimes")
    window = (_utc(start), _utc(end))
    found: list[EventOccurrence] = []
    for calendar in calendars:
        found.extend(_calendar_occurrences(calendar, window, default_tz))
    # In UTC: Python compares same-zone datetimes by wall clock, wrong in the DST fold.
    found.sort(key=lambda o: (_utc(o.interval.start), _utc(o.interval.end), o.uid))
    return found


def series_span(
    calendar: icalendar.Calendar, default_tz: tzinfo
) -> tuple[datetime, datetime | None]:
    """UTC start of the earliest occurrence and UTC end of the last one (None: never ends).

    For indexing: an item is a candidate for ``[a, b)`` when ``start < b`` and ``end`` is None
    or ``end >= a`` (``>=`` also finds zero-length events at ``a``). Exact for plain events and
    COUNT series; a safe superset otherwise (an EXDATE'd first occurrence still counts; an
    UNTIL series may end one DST change after UNTIL plus its duration). Covers RDATEs (also
    after the last RRULE occurrence), overrides moved anywhere, all-day and floating times
    (``default_tz``). VTODO/VJOURNAL: from DTSTART, DUE and DURATION; ``(SPAN_MIN, None)``
    without DTSTART and DUE. O(components + RDATEs), plus expanding a COUNT series (at most
    ``DEFAULT_MAX_COUNT`` occurrences per rule).
    """
    items = calendar_items(calendar)
    events = [item for item in items if item.name == "VEVENT"]
    if not events:
        return _task_span(items, default_tz)
    bounds = _event_bounds(events, default_tz)
    if bounds.counted:
        return _counted_span(calendar, bounds.start, default_tz)
    return bounds.start, bounds.end


@dataclass(frozen=True, slots=True)
class _Bounds:
    start: datetime
    end: datetime | None  # None: never ends, or unknown without expanding (``counted``)
    counted: bool  # every RRULE ends by COUNT: the exact end needs an expansion


def _calendar_occurrences(
    calendar: icalendar.Calendar, window: tuple[datetime, datetime], tz: tzinfo
) -> list[EventOccurrence]:
    events = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    if not events:
        return []
    if len(events) == 1 and not any(name in events[0] for name in RECURRENCE_PROPERTIES):
        candidates = [_occurrence(events[0], tz, recurring="RECURRENCE-ID" in events[0])]
    else:
        bounds = _event_bounds(events, tz)
        if bounds.start >= window[1] or (bounds.end is not None and bounds.end < window[0]):
            return []
        query = recurring_ical_events.of(calendar)
        expanded = query.between(window[0].astimezone(tz), window[1].astimezone(tz))
        candidates = [_occurrence(component, tz, recurring=True) for component in expanded]
    return [o for o in candidates if _touches(o.interval, window)]


def _occurrence(event: Component, tz: tzinfo, *, recurring: bool) -> EventOccurrence:
    first = _start_of(event)
    last = _shift(first, _duration(event))
    transparent = str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT"
    cancelled = str(event.get("STATUS", "")).upper() == "CANCELLED"
    recurrence_id = time_of(event, "RECURRENCE-ID")
    return EventOccurrence(
        uid=str(event.get("UID", "")),
        interval=_interval(aware_time(first, tz), aware_time(last, tz)),
        all_day=not isinstance(first, datetime),
        blocks_time=not (transparent or cancelled),
        recurrence_id=utc_time(recurrence_id, tz) if recurrence_id and recurring else None,
    )


def _interval(start: datetime, end: datetime) -> Interval:
    if _utc(end) < _utc(start):
        end = start  # ends before it starts (never accepted by parse_calendar): zero-length
    try:
        return Interval(start, end)
    except ValueError:
        # An Interval that compares by wall clock refuses e.g. 02:50 CEST - 02:10 CET (a real
        # 20 minutes in the DST fold); the same instants in UTC are fine.
        return Interval(_utc(start), _utc(end))


def _touches(interval: Interval, window: tuple[datetime, datetime]) -> bool:
    start, end = _utc(interval.start), _utc(interval.end)
    if start == end:
        return window[0] <= start < window[1]
    return start < window[1] and end > window[0]


def _event_bounds(events: list[Component], tz: tzinfo) -> _Bounds:
    """Span of a VEVENT object without expanding it: O(components + RDATEs)."""
    starts: list[datetime] = []
    ends: list[datetime] = []
    open_ended = counted = bounded = False
    for event in events:
        first, length = _start_of(event), _duration(event)
        starts.append(utc_time(first, tz))
        ends.append(utc_time(_shift(first, length), tz))
        recurrence_id: Any = event.get("RECURRENCE-ID")
        if recurrence_id is not None:
            # RANGE=THISANDFUTURE moves every later occurrence: do not guess how far.
            open_ended |= str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE"
            continue
        for value, period_end in _rdates(event):
            starts.append(utc_time(value, tz))
            ends.append(utc_time(_shift(value, length) if period_end is None else period_end, tz))
        for rule in values_of(event, "RRULE"):
            if "UNTIL" in rule:
                bounded = True
                ends.append(_until_end(rule["UNTIL"][0], first, length, tz))
            elif "COUNT" in rule and int(rule["COUNT"][0]) <= DEFAULT_MAX_COUNT:
                counted = True
            else:
                open_ended = True
    if open_ended or (counted and bounded):
        return _Bounds(min(starts), None, counted=False)
    return _Bounds(min(starts), None if counted else max(ends), counted=counted)


def _counted_span(
    calendar: icalendar.Calendar, first: datetime, tz: tzinfo
) -> tuple[datetime, datetime | None]:
    """Expand a COUNT series (bounded by the COUNT limit) for its exact span."""
    query = recurring_ical_events.of(calendar)
    expanded = query.between(first.astimezone(tz), _FAR_FUTURE.astimezone(tz))
    intervals = [_occurrence(component, tz, recurring=True).interval for component in expanded]
    if not intervals:  # every occurrence excluded: nothing ever happens
        return first, first
    return min(_utc(i.start) for i in intervals), max(_utc(i.end) for i in intervals)


def _until_end(
    until: date | datetime, first: date | datetime, length: timedelta, tz: tzinfo
) -> datetime:
    """Latest end of an occurrence that starts at or before UNTIL (an upper bound)."""
    if not isinstance(first, datetime) and not isinstance(until, datetime):
        return utc_time(_shift(until, length), tz)  # an all-day series: exact
    zone = (first.tzinfo if isinstance(first, datetime) else None) or tz
    last_start = aware_time(until, zone)
    if not isinstance(until, datetime):
        last_start += timedelta(days=1)
    return _utc(last_start + length) + _FOLD_SLACK


def _task_span(items: list[Component], tz: tzinfo) -> tuple[datetime, datetime | None]:
    """VTODO/VJOURNAL: from DTSTART, DUE and DURATION; without DTSTART and DUE: always."""
    if not items:
        return SPAN_MIN, None
    starts: list[datetime] = []
    ends: list[datetime] = []
    open_ended = False
    for item in items:
        first, due = time_of(item, "DTSTART"), time_of(item, "DUE")
        values = [value for value in (first, due) if value is not None]
        if not values:
            return SPAN_MIN, None
        if first is not None:
            default = timedelta(days=0 if isinstance(first, datetime) else 1)
            values.append(_shift(first, duration_of(item) or default))
        moments = [utc_time(value, tz) for value in values]
        starts.append(min(moments))
        ends.append(max(moments))
        open_ended |= "RRULE" in item or "RDATE" in item
    return min(starts), None if open_ended else max(ends)


def _start_of(event: Component) -> date | datetime:
    first = time_of(event, "DTSTART")
    if first is None:  # parse_calendar refuses it; here only for text that bypassed it
        raise ICalendarError("a VEVENT without DTSTART")
    return first


def _duration(event: Component) -> timedelta:
    """DTEND - DTSTART, else DURATION, else 1 day for a DATE and 0 for a DATE-TIME."""
    first = _start_of(event)
    last = time_of(event, "DTEND")
    if last is not None:
        if isinstance(first, datetime) and isinstance(last, datetime):
            if (first.tzinfo is None) == (last.tzinfo is None):
                return max(last - first, timedelta(0))
        elif not isinstance(first, datetime) and not isinstance(last, datetime):
            return max(last - first, timedelta(0))
        return max(utc_time(last, UTC) - utc_time(first, UTC), timedelta(0))
    duration = duration_of(event)
    if duration is not None:
        return max(duration, timedelta(0))
    return timedelta(days=0 if isinstance(first, datetime) else 1)


def _shift(value: date | datetime, length: timedelta) -> date | datetime:
    """``value + length`` as RFC 5545 and recurring_ical_events add: wall clock, whole days."""
    if not isinstance(value, datetime) and length % timedelta(days=1):
        value = datetime(value.year, value.month, value.day)
    return value + length


def _rdates(event: Component) -> list[tuple[date | datetime, date | datetime | None]]:
    """RDATE values with their PERIOD end, or None for a plain DATE or DATE-TIME."""
    found: list[tuple[date | datetime, date | datetime | None]] = []
    for prop in values_of(event, "RDATE"):
        for value in prop.dts:
            if isinstance(value.dt, tuple):
                start, end = value.dt
                found.append((start, _shift(start, end) if isinstance(end, timedelta) else end))
            else:
                found.append((value.dt, None))
    return found


def _length_of(interval: Interval) -> timedelta:
    return _utc(interval.end) - _utc(interval.start)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)

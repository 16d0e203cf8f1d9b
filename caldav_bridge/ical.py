"""The iCalendar edge: one CalDAV object's text in, a validated ``icalendar.Calendar`` out.

``parse_calendar`` is what a CalDAV PUT goes through: it refuses, with a short English reason in
an ``ICalendarError``, anything the rest of the bridge could not interpret later, so that a
stored item never breaks busy time. ``load_calendar`` reads text that was accepted before.
Both give every DATE-TIME the time zone this object means (``_bind_own_timezones``).

Busy time and index spans are in ``caldav_bridge.busy``, on top of the readers here.
"""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

import icalendar
import recurring_ical_events
from icalendar.cal.component import Component
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from caldav_bridge.errors import ICalendarError

DEFAULT_MAX_SIZE = 1_000_000
"""Bytes of iCalendar text accepted for one object."""

DEFAULT_MAX_COUNT = 5000
"""Highest RRULE ``COUNT`` accepted (an infinite series is normal, a huge finite one is not)."""

CALENDAR_COMPONENTS = ("VEVENT", "VTODO", "VJOURNAL")
"""What a CalDAV object is about; VTIMEZONE only supports them."""

TIME_PROPERTIES = ("DTSTART", "DTEND", "DUE", "RECURRENCE-ID", "RDATE", "EXDATE")
"""Properties whose values may carry a ``TZID`` parameter."""

MAX_DEPTH = 4
"""VCALENDAR > VEVENT > VALARM, plus one level for a vendor's sub-component."""

REFUSED_FREQUENCIES = frozenset({"SECONDLY", "MINUTELY"})
RECURRENCE_PROPERTIES = ("RRULE", "RDATE", "EXDATE")


def parse_calendar(
    text: str | bytes, *, max_size: int = DEFAULT_MAX_SIZE, max_count: int = DEFAULT_MAX_COUNT
) -> icalendar.Calendar:
    """Parse one iCalendar object as a CalDAV server must accept it, or raise ``ICalendarError``.

    Refused: more than ``max_size`` bytes; text that is not iCalendar or has an unreadable
    standard property; a root that is not VCALENDAR; components nested deeper than
    ``MAX_DEPTH``; no VEVENT/VTODO/VJOURNAL; several component types or UIDs in one object
    (RECURRENCE-ID overrides of the one UID are fine); a VEVENT without DTSTART; DTEND or DUE
    before DTSTART, DTEND with DURATION, a negative DURATION; a TZID (or X-WR-TIMEZONE)
    neither defined by a VTIMEZONE in the object nor known to zoneinfo or as a Windows zone
    name; an RRULE with FREQ=SECONDLY/MINUTELY, COUNT above ``max_count``, COUNT with UNTIL,
    a rule part out of range, or that cannot be expanded. O(size of the text).
    """
    if _size(text) > max_size:
        raise ICalendarError(f"too large: more than {max_size} bytes")
    calendar = _read(text)
    _check_readable(calendar)
    _bind_own_timezones(calendar)
    _check_calendar(calendar, max_count)
    _check_expandable(calendar)
    return calendar


def load_calendar(text: str | bytes) -> icalendar.Calendar:
    """Read text that ``parse_calendar`` accepted before: no checks, the same time zones."""
    calendar = _read(text)
    _bind_own_timezones(calendar)
    return calendar


def calendar_items(calendar: icalendar.Calendar) -> list[Component]:
    """The VEVENT, VTODO and VJOURNAL components of the object, in file order."""
    return [c for c in calendar.subcomponents if c.name in CALENDAR_COMPONENTS]


def time_of(component: Component, name: str) -> date | datetime | None:
    """The DATE or DATE-TIME of DTSTART, DTEND, DUE or RECURRENCE-ID; None when absent."""
    prop: Any = component.get(name)
    if prop is None:
        return None
    value = prop.dt
    if not isinstance(value, date):  # a datetime is a date too
        raise ICalendarError(f"{name} of a {component.name} is not a date or date-time")
    return value


def duration_of(component: Component) -> timedelta | None:
    """The DURATION of a component; None when absent."""
    prop: Any = component.get("DURATION")
    if prop is None:
        return None
    value = prop.dt
    if not isinstance(value, timedelta):
        raise ICalendarError(f"DURATION of a {component.name} is not a duration")
    return value


def values_of(component: Component, name: str) -> list[Any]:
    """Every occurrence of a property that may repeat (RRULE, RDATE, EXDATE)."""
    found = component.get(name)
    if found is None:
        return []
    return list(found) if isinstance(found, list) else [found]


def aware_time(value: date | datetime, default_tz: tzinfo) -> datetime:
    """A DATE or DATE-TIME as an aware datetime in ``default_tz``.

    A DATE is local midnight in ``default_tz``; a floating time is read in ``default_tz``; a
    local time that does not exist (spring forward) becomes the real time after the gap.
    """
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=default_tz)
    return value.astimezone(UTC).astimezone(default_tz)


def utc_time(value: date | datetime, default_tz: tzinfo) -> datetime:
    """``aware_time`` in UTC."""
    return aware_time(value, default_tz).astimezone(UTC)


def _size(text: str | bytes) -> int:
    if isinstance(text, bytes):
        return len(text)
    return len(text.encode("utf-8", "replace"))


def _read(text: str | bytes) -> icalendar.Calendar:
    try:
        parsed = icalendar.Calendar.from_ical(text)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        line = getattr(exc, "line_number", None)
        where = f" (line {line})" if line is not None else ""
        raise ICalendarError(f"not parseable as iCalendar{where}") from exc
    if parsed.name != "VCALENDAR":
        raise ICalendarError("not a VCALENDAR object")
    return parsed


def _check_calendar(calendar: icalendar.Calendar, max_count: int) -> None:
    items = calendar_items(calendar)
    if not items:
        raise ICalendarError("no component: the object has no VEVENT, VTODO or VJOURNAL")
    _check_one_uid(items)
    _check_time_zones(calendar)
    for item in items:
        _check_times(item)
        _check_rules(item, max_count)


def _check_readable(calendar: icalendar.Calendar) -> None:
    """icalendar 7 keeps unreadable values in VEVENT/VTODO/... as ``vBroken`` plus ``errors``."""
    stack: list[tuple[Component, int]] = [(calendar, 1)]
    while stack:  # before anything recursive (walk, to_ical, other parsers) sees the tree
        parent, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ICalendarError("components nested too deeply")
        stack.extend((child, depth + 1) for child in parent.subcomponents)
    for component in calendar.walk():
        for name, _message in component.errors:
            if name is None or not name.upper().startswith("X-"):
                raise ICalendarError(f"{component.name} has an unreadable {name or 'line'}")


def _check_one_uid(items: list[Component]) -> None:
    kinds = sorted({str(item.name) for item in items})
    if len(kinds) > 1:
        raise ICalendarError(f"mixed component types in one object: {', '.join(kinds)}")
    uids = set()
    masters = 0
    for item in items:
        if "UID" not in item:
            raise ICalendarError(f"a {item.name} without UID")
        uids.add(str(item["UID"]))
        masters += "RECURRENCE-ID" not in item
    if len(uids) > 1:
        raise ICalendarError("mixed UIDs in one object")
    if masters > 1:
        raise ICalendarError(f"several {kinds[0]}s with the same UID and no RECURRENCE-ID")


def _check_time_zones(calendar: icalendar.Calendar) -> None:
    defined = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE") if "TZID" in tz}
    for tzid in sorted(calendar.get_used_tzids() - defined):
        if tzid not in _iana_zones() and _iana_name_of_windows_zone(tzid) is None:
            raise ICalendarError(f"unknown time zone: TZID={tzid[:60]}")
    # recurring_ical_events reads X-WR-TIMEZONE (Google exports) with zoneinfo.
    x_wr_timezone = calendar.get("X-WR-TIMEZONE")
    if x_wr_timezone is not None and str(x_wr_timezone) not in _iana_zones():
        raise ICalendarError(f"unknown time zone: X-WR-TIMEZONE={str(x_wr_timezone)[:60]}")


@functools.cache
def _iana_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _iana_name_of_windows_zone(tzid: str) -> str | None:
    """``"W. Europe Standard Time"`` -> ``"Europe/Berlin"`` (icalendar's CLDR table)."""
    iana = WINDOWS_TO_OLSON.get(tzid)
    return iana if iana in _iana_zones() else None


def _check_times(item: Component) -> None:
    name = item.name
    start = time_of(item, "DTSTART")
    if start is None:
        if name == "VEVENT":
            raise ICalendarError("a VEVENT without DTSTART")
        return
    if "DTEND" in item and "DURATION" in item:
        raise ICalendarError(f"a {name} with both DTEND and DURATION")
    all_day = not isinstance(start, datetime)
    duration = duration_of(item)
    if duration is not None and duration < timedelta(0):
        raise ICalendarError(f"a {name} with a negative DURATION")
    if duration is not None and all_day and duration % timedelta(days=1):
        raise ICalendarError(f"an all-day {name} with a DURATION that is not whole days")
    for end_name in ("DTEND", "DUE"):
        end = time_of(item, end_name)
        if end is None:
            continue
        if all_day != (not isinstance(end, datetime)):
            raise ICalendarError(f"DTSTART and {end_name} of a {name} mix DATE and DATE-TIME")
        if utc_time(end, UTC) < utc_time(start, UTC):
            raise ICalendarError(f"{end_name} before DTSTART in a {name}")


def _check_rules(item: Component, max_count: int) -> None:
    rules = values_of(item, "RRULE")
    if (rules or "RDATE" in item) and "DTSTART" not in item:
        raise ICalendarError(f"a recurring {item.name} without DTSTART")
    for rule in rules:
        frequency = str(next(iter(rule.get("FREQ", [])), "")).upper()
        if not frequency:
            raise ICalendarError("an RRULE without FREQ")
        if frequency in REFUSED_FREQUENCIES:
            raise ICalendarError(f"RRULE FREQ={frequency} is not accepted: it repeats too often")
        if "COUNT" in rule and "UNTIL" in rule:
            raise ICalendarError("an RRULE with both COUNT and UNTIL")
        for count in rule.get("COUNT", []):
            if int(count) > max_count:
                raise ICalendarError(f"RRULE COUNT={count} is above the limit of {max_count}")
        _check_rule_values(rule)


# RFC 5545 section 3.3.10: the range of each rule part (0 is never allowed where low < 0).
_RULE_PART_RANGES = {
    "COUNT": (1, None),
    "INTERVAL": (1, None),
    "BYSECOND": (0, 60),
    "BYMINUTE": (0, 59),
    "BYHOUR": (0, 23),
    "BYMONTHDAY": (-31, 31),
    "BYYEARDAY": (-366, 366),
    "BYWEEKNO": (-53, 53),
    "BYMONTH": (1, 12),
    "BYSETPOS": (-366, 366),
}
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # a leap year


def _check_rule_values(rule: Any) -> None:
    """Out-of-range values make dateutil loop forever (INTERVAL=0) or scan to year 9999."""
    for part, (low, high) in _RULE_PART_RANGES.items():
        for value in rule.get(part, []):
            number = int(value)
            if number < low or (high is not None and number > high) or (low < 0 and not number):
                raise ICalendarError(f"RRULE {part}={value} is out of range")
            if getattr(value, "leap", False):
                raise ICalendarError(f"RRULE {part}={value}: leap months are not Gregorian")
    months = [int(m) for m in rule.get("BYMONTH", [])]
    days = [int(d) for d in rule.get("BYMONTHDAY", [])]
    if months and days and not any(abs(d) <= _DAYS_IN_MONTH[m - 1] for m in months for d in days):
        raise ICalendarError("an RRULE that never occurs (BYMONTHDAY not in BYMONTH)")


def _check_expandable(calendar: icalendar.Calendar) -> None:
    """Expand a recurring object once, near its start, so a stored item never fails later."""
    items = calendar_items(calendar)
    if not any(name in item for item in items for name in RECURRENCE_PROPERTIES):
        return
    starts = [time_of(item, "DTSTART") for item in items]
    first = min(utc_time(start, UTC) for start in starts if start is not None)
    kind = items[0].name
    try:
        query = recurring_ical_events.of(calendar, components=[kind])
        query.between(first - timedelta(days=1), first + timedelta(days=7))
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ICalendarError(f"the recurrence of the {kind} cannot be expanded") from exc


def _bind_own_timezones(calendar: icalendar.Calendar) -> None:
    """Give every DATE-TIME whose TZID is not an IANA name the zone this object means by it.

    That is the object's own VTIMEZONE, else the IANA zone of a Windows name. icalendar caches
    a VTIMEZONE with a non-IANA TZID (Outlook's "Customized Time Zone", a Windows name)
    process-wide and the first one read wins, also for later objects that only name it:
    without this, one therapist's definition would silently apply to another's calendar.
    IANA names keep zoneinfo, which knows the rules better than the VTIMEZONEs clients send.
    O(number of properties).
    """
    own = _own_zones(calendar)
    if not own:
        return
    for component in calendar.walk():
        for name in TIME_PROPERTIES:
            for prop in values_of(component, name):
                tz = own.get(str(prop.params.get("TZID", "")))
                if tz is not None:
                    for value in _date_values(prop):
                        value.dt = _with_zone(value.dt, tz)


def _own_zones(calendar: icalendar.Calendar) -> dict[str, tzinfo]:
    own: dict[str, tzinfo] = {}
    for component in calendar.walk("VTIMEZONE"):
        tzid = str(component.get("TZID", ""))
        if not tzid or tzid in _iana_zones() or not isinstance(component, icalendar.Timezone):
            continue
        try:
            own[tzid] = component.to_tz(lookup_tzid=False)
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ICalendarError(f"the VTIMEZONE {tzid[:60]} cannot be read") from exc
    for tzid in calendar.get_used_tzids():
        iana = _iana_name_of_windows_zone(tzid)
        if tzid not in own and tzid not in _iana_zones() and iana is not None:
            own[tzid] = zoneinfo.ZoneInfo(iana)
    return own


def _date_values(prop: Any) -> Iterator[Any]:
    """The vDDDTypes of a DTSTART-like property, or those inside an RDATE/EXDATE list."""
    yield from getattr(prop, "dts", [prop])


def _with_zone(value: Any, tz: tzinfo) -> Any:
    if isinstance(value, tuple):  # an RDATE period: (start, end or duration)
        return tuple(_with_zone(part, tz) for part in value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=tz)
    return value

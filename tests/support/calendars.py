"""Putting real iCalendar files into a therapist's calendars through the store."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from caldav_bridge.busy import series_span
from caldav_bridge.ical import calendar_items, parse_calendar
from caldav_bridge.store import Span, Store

CALENDARS = Path(__file__).resolve().parents[1] / "data" / "calendars"
ZURICH = ZoneInfo("Europe/Zurich")


def ensure_calendar(store: Store, path: str) -> None:
    owner = path.split("/")[0]
    with store.write(owner) as tx:
        if tx.collection(owner) is None:
            tx.create_collection(owner, owner, "", {})
        if tx.collection(path) is None:
            tx.create_collection(path, owner, "VCALENDAR", {})


def put_ics(store: Store, path: str, text: str, href: str | None = None) -> str:
    """Store ``text`` in the calendar at ``path`` as a calendar app would; returns the UID."""
    ensure_calendar(store, path)
    calendar = parse_calendar(text)
    first = calendar_items(calendar)[0]
    uid = str(first["UID"])
    start, end = series_span(calendar, ZURICH)
    span = Span(uid=uid, component=str(first.name), start_at=start, end_at=end)
    owner = path.split("/")[0]
    with store.write(owner) as tx:
        tx.put_item(path, href or f"{uid}.ics", text, span, owner)
    return uid


def calendar_file(name: str) -> str:
    return (CALENDARS / name).read_text(encoding="utf-8")


def event(uid: str, start: str, end: str, *extra: str) -> str:
    """A minimal VEVENT in Europe/Zurich; ``start``/``end`` like 20261202T150000."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//caldav-bridge tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART;TZID=Europe/Zurich:{start}",
        f"DTEND;TZID=Europe/Zurich:{end}",
        "SUMMARY:Private",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"

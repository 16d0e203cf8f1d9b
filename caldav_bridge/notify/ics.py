"""The `.ics` attached to an email: the appointment as one event the reader can add.

METHOD:PUBLISH and no ATTENDEE or ORGANIZER: mail programs offer "add to calendar" rather
than an invitation to answer. The UID is the appointment's and SEQUENCE grows with its version,
so a later notice's attachment updates the event the reader added (or marks it cancelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

import icalendar

PRODID = "-//caldav-bridge//Practice calendar//EN"


@dataclass(frozen=True)
class IcsEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str
    location: str
    description: str
    sequence: int
    cancelled: bool


def ics_text(event: IcsEvent, stamp: datetime, tz: tzinfo) -> str:
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.start.astimezone(tz))
    vevent.add("dtend", event.end.astimezone(tz))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("sequence", event.sequence)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(vevent)
    year = event.start.astimezone(tz).year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return bytes(calendar.to_ical()).decode()

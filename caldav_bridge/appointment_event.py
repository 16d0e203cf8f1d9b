"""The VEVENT an appointment is in the therapist's calendar.

Written with icalendar, which escapes text values, so nothing a patient typed can become a
property of its own. No ATTENDEE or ORGANIZER: calendar apps must not send invitations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

import icalendar

PRODID = "-//caldav-bridge//Practice calendar//EN"


@dataclass(frozen=True)
class AppointmentEvent:
    uid: str
    start: datetime
    end: datetime
    summary: str  # "<service> – <patient name or initials>"
    location: str
    description: str
    url: str
    sequence: int


def event_text(event: AppointmentEvent, stamp: datetime, tz: tzinfo) -> str:
    """The iCalendar object for ``event``, times in the practice's zone with its VTIMEZONE."""
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
    if event.url:
        vevent.add("url", event.url)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("sequence", event.sequence)
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add_component(vevent)
    # Transitions around the appointment only: a client needs the offsets of its own times.
    year = event.start.astimezone(tz).year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return bytes(calendar.to_ical()).decode()

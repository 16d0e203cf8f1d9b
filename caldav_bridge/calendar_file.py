"""An appointment as an "add to calendar" file (METHOD:PUBLISH): the only writer of one. Pure.

Used for the file a patient downloads from the manage page, for the file attached to every
email (`caldav_bridge.notify.compose`), and for a patient's data export
(`caldav_bridge.patient_export`, all their appointments in one file). No ATTENDEE or
ORGANIZER: mail programs offer "add to calendar" rather than an invitation to answer.

It carries when, where, what and with whom, and how to reach the practice. The patient's
copy has a UID of its own (their calendar and the therapist's are different stores); the
therapist's copy has the appointment's UID, so it is the event already in their calendar.
Either way the UID is stable per appointment and SEQUENCE follows the appointment's version:
a later download or email attachment updates the event the reader added (or marks it
cancelled) instead of adding a second one, whichever of the two they used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Literal

import icalendar

PRODID = "-//caldav-bridge//Patient appointment//EN"


Reader = Literal["patient", "therapist"]


@dataclass(frozen=True)
class PublishedEvent:
    uid: str  # the appointment's UID
    version: int
    start: datetime
    end: datetime
    summary: str  # "Séance (75 min) – Anne Rochat"
    location: str  # the practice's address
    description: str  # the practice's name and phone
    cancelled: bool = False
    reader: Reader = "patient"  # whose calendar it is for (decides the UID)


def patient_uid(appointment_uid: str) -> str:
    return f"{appointment_uid}-patient"


def calendar_file(event: PublishedEvent, stamp: datetime, tz: tzinfo) -> bytes:
    """The iCalendar file with ``event`` in the practice's zone."""
    return calendar_file_of([event], stamp, tz)


def calendar_file_of(events: Sequence[PublishedEvent], stamp: datetime, tz: tzinfo) -> bytes:
    """One iCalendar file with several appointments (a patient's data export)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for event in events:
        calendar.add_component(_vevent(event, stamp, tz))
    if events:
        years = [event.start.astimezone(tz).year for event in events]
        calendar.add_missing_timezones(
            first_date=date(min(years) - 1, 1, 1), last_date=date(max(years) + 2, 1, 1)
        )
    return bytes(calendar.to_ical())


def _vevent(event: PublishedEvent, stamp: datetime, tz: tzinfo) -> icalendar.Event:
    vevent = icalendar.Event()
    vevent.add("uid", patient_uid(event.uid) if event.reader == "patient" else event.uid)
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.start.astimezone(tz))
    vevent.add("dtend", event.end.astimezone(tz))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("sequence", max(0, event.version - 1))
    return vevent

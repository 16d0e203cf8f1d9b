"""The "add to calendar" file a patient downloads for their appointment. Pure.

It carries what the patient needs and nothing about them: when, where, what and with whom,
and how to reach the practice. Its UID differs from the therapist's event (a patient's
calendar and the therapist's are different stores) but is stable per appointment, and its
SEQUENCE follows the appointment's version, so downloading it again after a reschedule
updates the event in the patient's calendar instead of adding a second one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo

import icalendar

PRODID = "-//caldav-bridge//Patient appointment//EN"


@dataclass(frozen=True)
class PatientEvent:
    uid: str  # the appointment's UID
    version: int
    start: datetime
    end: datetime
    summary: str  # "Séance (75 min) – Anne Rochat"
    location: str  # the practice's address
    description: str  # the practice's name and phone


def patient_uid(appointment_uid: str) -> str:
    return f"{appointment_uid}-patient"


def calendar_file(event: PatientEvent, stamp: datetime, tz: tzinfo) -> bytes:
    """The iCalendar file (METHOD:PUBLISH) with ``event`` in the practice's zone."""
    vevent = icalendar.Event()
    vevent.add("uid", patient_uid(event.uid))
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", event.start.astimezone(tz))
    vevent.add("dtend", event.end.astimezone(tz))
    vevent.add("summary", event.summary)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    vevent.add("sequence", max(0, event.version - 1))
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(vevent)
    year = event.start.astimezone(tz).year
    calendar.add_missing_timezones(first_date=date(year - 1, 1, 1), last_date=date(year + 2, 1, 1))
    return bytes(calendar.to_ical())

"""What the patient sees of an appointment: on the confirmation, manage and reschedule pages,
and in the "add to calendar" file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from booking_web.i18n import current_language
from caldav_bridge.calendar_file import PublishedEvent, calendar_file
from caldav_bridge.config import Config
from caldav_bridge.store import Appointment, Patient


@dataclass(frozen=True)
class Summary:
    service: str  # its name in the page's language
    therapist: str  # the therapist's name
    start: datetime  # in the practice's zone
    end: datetime
    place: str
    patient_name: str  # "" when the patient's record is gone

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


def summary_of(config: Config, appointment: Appointment, patient: Patient | None) -> Summary:
    tz = config.practice.tz
    service = config.services.get(appointment.service)
    therapist = config.therapists.get(appointment.therapist)
    return Summary(
        service=service.name(current_language()) if service else appointment.service,
        therapist=therapist.name if therapist else appointment.therapist,
        start=appointment.start_at.astimezone(tz),
        end=appointment.end_at.astimezone(tz),
        place=config.practice.address,
        patient_name=f"{patient.first_name} {patient.last_name}" if patient else "",
    )


def patient_calendar(
    config: Config, appointment: Appointment, summary: Summary, stamp: datetime
) -> bytes:
    """The .ics for the patient: when, where, what, with whom; nothing about the patient."""
    practice = config.practice
    contact = " · ".join(part for part in (practice.name, practice.phone) if part)
    event = PublishedEvent(
        uid=appointment.uid,
        version=appointment.version,
        start=summary.start,
        end=summary.end,
        summary=f"{summary.service} – {summary.therapist}",
        location=summary.place,
        description=contact,
    )
    return calendar_file(event, stamp, practice.tz)

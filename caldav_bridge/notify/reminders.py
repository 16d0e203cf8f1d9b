"""When a reminder is due, on which channels, and whether a queued message still applies.

Pure rules (DESIGN.md §5): a reminder goes out at ``start - lead`` (24, 48 or 72 h); one booked
inside the lead time gets it at once unless it starts within `MIN_AHEAD`. Its idempotency key
names the appointment, the start time and the channel, so a moved appointment gets one for its
new time and never two for one time. A cancelled appointment gets none, and SMS are off per
patient and per appointment: both are checked again just before sending.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from caldav_bridge.config import NotificationSettings
from caldav_bridge.notify.messages import EMAIL, SMS, Channel
from caldav_bridge.store import Appointment, Patient
from caldav_bridge.store.appointments import CONFIRMED

MIN_AHEAD = timedelta(hours=2)
REMINDER_TEMPLATES = ("sms_reminder", "reminder_patient")


def sms_allowed(appointment: Appointment, patient: Patient) -> bool:
    """SMS are off per patient and per appointment, and need a phone number."""
    return bool(patient.phone and patient.sms_enabled and appointment.sms_enabled)


def reminder_window(now: datetime, lead: timedelta) -> tuple[datetime, datetime]:
    """Appointments starting in ``(first, last]`` are due for their reminder at ``now``."""
    return now + MIN_AHEAD, now + lead


def reminder_channels(
    settings: NotificationSettings, appointment: Appointment, patient: Patient
) -> list[Channel]:
    channels: list[Channel] = []
    if settings.sms_reminders and sms_allowed(appointment, patient):
        channels.append(SMS)
    if settings.email_reminders and patient.email:
        channels.append(EMAIL)
    return channels


def reminder_key(appointment: Appointment, channel: Channel) -> str:
    """One reminder per appointment, start time and channel."""
    return f"reminder:{appointment.uid}:{appointment.start_at.isoformat()}:{channel}"


def void_reason(
    channel: str,
    template: str,
    announced_start: datetime | None,
    appointment: Appointment | None,
    patient: Patient | None,
    now: datetime,
) -> str | None:
    """Why a queued message must not be sent any more (None: send it).

    Any SMS: the patient or the appointment has SMS off. A reminder: the appointment is gone,
    cancelled, moved away from the time it announces, or already started.
    """
    if channel == SMS and (
        appointment is None or patient is None or not sms_allowed(appointment, patient)
    ):
        return "SMS turned off for this patient or appointment"
    if template not in REMINDER_TEMPLATES:
        return None
    if appointment is None or appointment.status != CONFIRMED:
        return "appointment cancelled"
    if announced_start is not None and appointment.start_at != announced_start:
        return "appointment moved"
    if appointment.start_at <= now:
        return "appointment already started"
    return None

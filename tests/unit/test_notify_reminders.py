"""When reminders go out and when a queued message no longer applies (notify.reminders).

The rule: a reminder at ``start - lead`` (24, 48 or 72 h); one booked inside the lead time at
once, unless the appointment starts within two hours; one per appointment and start time.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caldav_bridge.config import NotificationSettings
from caldav_bridge.notify.reminders import (
    MIN_AHEAD,
    reminder_channels,
    reminder_key,
    reminder_window,
    void_reason,
)
from caldav_bridge.store import Appointment, Patient

NOW = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
START = datetime(2026, 12, 2, 14, 15, tzinfo=UTC)
SETTINGS = NotificationSettings(
    reminder_lead=timedelta(hours=24),
    sms_reminders=True,
    email_reminders=False,
    sms_notices=False,
    outbox_dir=__import__("pathlib").Path("/nonexistent"),
)
APPOINTMENT = Appointment(
    uid="appt-1",
    therapist="anne",
    collection_path="anne/appointments",
    href="appt-1.ics",
    patient_id=7,
    service="seance-75",
    start_at=START,
    end_at=START + timedelta(minutes=75),
    status="confirmed",
    created_by="patient",
    sms_enabled=True,
    version=1,
)
PATIENT = Patient(7, "Zoë", "Müller", "zoe@example.org", "+41791234567", "fr", True, "", None, "p")


def due(start: datetime, now: datetime, lead_hours: int = 24) -> bool:
    first, last = reminder_window(now, timedelta(hours=lead_hours))
    return first < start <= last


@pytest.mark.parametrize(
    ("now", "lead", "expected"),
    [
        (START - timedelta(hours=24, minutes=1), 24, False),  # not yet
        (START - timedelta(hours=24), 24, True),  # exactly 24 h before
        (START - timedelta(hours=47), 48, True),
        (START - timedelta(hours=73), 72, False),
        (START - timedelta(hours=5), 24, True),  # booked inside the lead time: at once
        (START - timedelta(hours=2, minutes=1), 24, True),
        (START - timedelta(hours=2), 24, False),  # starts within the next two hours
        (START - timedelta(minutes=30), 72, False),
        (START + timedelta(minutes=1), 24, False),  # started
    ],
)
def test_when_a_reminder_is_due(now: datetime, lead: int, expected: bool) -> None:
    assert due(START, now, lead) is expected


@given(
    booked_before=st.integers(min_value=0, max_value=96 * 60),
    lead=st.sampled_from([24, 48, 72]),
    step=st.integers(min_value=1, max_value=60),
)
def test_a_watcher_passing_every_few_minutes_reminds_promptly(
    booked_before: int, lead: int, step: int
) -> None:
    """Passes every ``step`` minutes from the booking on: the first pass at or after
    ``start - lead`` sends the reminder, unless the appointment then starts within 2 h."""
    booked = START - timedelta(minutes=booked_before)
    passes = [booked + timedelta(minutes=step * i) for i in range(booked_before // step + 1)]
    first_due = next((m for m in passes if m >= START - timedelta(hours=lead)), None)
    expected = first_due if first_due and START - first_due > MIN_AHEAD else None
    reminded = next((m for m in passes if due(START, m, lead)), None)
    assert reminded == expected


def test_a_moved_appointment_has_a_new_reminder_key() -> None:
    moved = replace(APPOINTMENT, start_at=START + timedelta(days=1))
    assert reminder_key(moved, "sms") != reminder_key(APPOINTMENT, "sms")
    assert reminder_key(APPOINTMENT, "sms") != reminder_key(APPOINTMENT, "email")


@pytest.mark.parametrize(
    ("settings", "appointment", "patient", "channels"),
    [
        (SETTINGS, APPOINTMENT, PATIENT, ["sms"]),
        (replace(SETTINGS, email_reminders=True), APPOINTMENT, PATIENT, ["sms", "email"]),
        (replace(SETTINGS, sms_reminders=False), APPOINTMENT, PATIENT, []),
        (SETTINGS, APPOINTMENT, replace(PATIENT, sms_enabled=False), []),
        (SETTINGS, replace(APPOINTMENT, sms_enabled=False), PATIENT, []),
        (SETTINGS, APPOINTMENT, replace(PATIENT, phone=None), []),
        (
            replace(SETTINGS, email_reminders=True),
            APPOINTMENT,
            replace(PATIENT, email=None),
            ["sms"],
        ),
    ],
)
def test_reminder_channels(
    settings: NotificationSettings, appointment: Appointment, patient: Patient, channels: list[str]
) -> None:
    assert reminder_channels(settings, appointment, patient) == channels


@pytest.mark.parametrize(
    ("channel", "template", "appointment", "patient", "reason"),
    [
        ("sms", "sms_reminder", APPOINTMENT, PATIENT, None),
        (
            "sms",
            "sms_reminder",
            replace(APPOINTMENT, status="cancelled"),
            PATIENT,
            "appointment cancelled",
        ),
        ("sms", "sms_reminder", None, None, "SMS turned off for this patient or appointment"),
        ("email", "reminder_patient", None, None, "appointment cancelled"),
        (
            "sms",
            "sms_reminder",
            replace(APPOINTMENT, start_at=START + timedelta(hours=1)),
            PATIENT,
            "appointment moved",
        ),
        (
            "sms",
            "sms_reminder",
            APPOINTMENT,
            replace(PATIENT, sms_enabled=False),
            "SMS turned off for this patient or appointment",
        ),
        (
            "sms",
            "sms_booked",
            replace(APPOINTMENT, sms_enabled=False),
            PATIENT,
            "SMS turned off for this patient or appointment",
        ),
        ("email", "booked_patient", replace(APPOINTMENT, status="cancelled"), PATIENT, None),
        ("email", "cancelled_patient", None, None, None),
    ],
)
def test_what_no_longer_applies_is_not_sent(
    channel: str,
    template: str,
    appointment: Appointment | None,
    patient: Patient | None,
    reason: str | None,
) -> None:
    assert void_reason(channel, template, START, appointment, patient, NOW) == reason


def test_a_reminder_is_not_sent_once_the_appointment_started() -> None:
    late = START + timedelta(minutes=5)
    assert void_reason("sms", "sms_reminder", START, APPOINTMENT, PATIENT, late) == (
        "appointment already started"
    )

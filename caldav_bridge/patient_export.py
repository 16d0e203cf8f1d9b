"""A patient's data, for them (nFADP art. 25 / GDPR art. 15 and 20): one JSON document and
one calendar file of their appointments.

The JSON holds everything the practice keeps about the patient: their record (contact data,
language, reminders, consent, the therapists' notes), their appointments with every
therapist (service, therapist, times, status, their note), the messages sent to them with
their texts and states, and the audit entries about their record and appointments (who read
or changed them, and when). The calendar file is what the patient gets after booking
(`caldav_bridge.calendar_file`), one event per appointment, cancelled ones marked so.

Gathering it is audited (``patient.export``, with the format): it shows all of the above.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from caldav_bridge.calendar_file import PublishedEvent, calendar_file_of
from caldav_bridge.config import Config
from caldav_bridge.notify.delivery_problems import delivery_problem
from caldav_bridge.patient_records import NoPatientError
from caldav_bridge.store import Appointment, Patient, Store
from caldav_bridge.store.appointments import CANCELLED
from caldav_bridge.store.outbox import OutboxEntry
from caldav_bridge.store.records import AuditEntry

FORMAT = "caldav-bridge patient data 1"
JSON = "json"
ICS = "ics"


@dataclass(frozen=True)
class PatientData:
    patient: Patient
    appointments: tuple[Appointment, ...]  # oldest first
    messages: tuple[OutboxEntry, ...]  # oldest first
    audit: tuple[AuditEntry, ...]  # oldest first


def gather_patient_data(store: Store, actor: str, patient_id: int, form: str) -> PatientData:
    """Everything about the patient, or raise `NoPatientError`; audited with ``form``."""
    with store.write() as tx:
        patient = tx.patient(patient_id)
        if patient is None:
            raise NoPatientError(str(patient_id))
        appointments = tx.appointments_of_patient(patient_id)
        messages = tx.messages_to_patient(patient_id, limit=None)[::-1]
        tx.audit(actor, "patient.export", f"patient:{patient_id}", f"format={form}")
        subjects = [f"patient:{patient_id}", *(f"appointment:{a.uid}" for a in appointments)]
        audit = tx.audit_entries_about(subjects)
    return PatientData(patient, tuple(appointments), tuple(messages), tuple(audit))


def export_json(data: PatientData, config: Config, now: datetime) -> str:
    """The JSON document (UTF-8 text, times in the practice's zone with their offset)."""
    practice = config.practice
    document = {
        "format": FORMAT,
        "exported_at": _time(now, config),
        "practice": {"name": practice.name, "address": practice.address, "phone": practice.phone},
        "patient": _patient(data.patient, config),
        "appointments": [_appointment(a, data.patient.language, config) for a in data.appointments],
        "messages": [_message(m, config) for m in data.messages],
        "audit": [_audit(e, config) for e in data.audit],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def export_calendar(data: PatientData, config: Config, now: datetime) -> bytes:
    """The patient's appointments as one iCalendar file, in their language."""
    events = [_event(a, data.patient.language, config) for a in data.appointments]
    return calendar_file_of(events, now, config.practice.tz)


def _patient(patient: Patient, config: Config) -> dict[str, Any]:
    return {
        "id": patient.id,
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email,
        "phone": patient.phone,
        "language": patient.language,
        "sms_reminders": patient.sms_enabled,
        "notes": patient.notes,
        "consent_given_online_at": _time(patient.consent_at, config),
        "created_by": patient.created_by,
    }


def _appointment(appointment: Appointment, language: str, config: Config) -> dict[str, Any]:
    service = config.services.get(appointment.service)
    therapist = config.therapists.get(appointment.therapist)
    return {
        "uid": appointment.uid,
        "service": {
            "id": appointment.service,
            "name": service.name(language) if service else appointment.service,
        },
        "therapist": {
            "login": appointment.therapist,
            "name": therapist.name if therapist else appointment.therapist,
        },
        "start": _time(appointment.start_at, config),
        "end": _time(appointment.end_at, config),
        "status": appointment.status,
        "booked_by": appointment.created_by,
        "sms_reminder": appointment.sms_enabled,
        "message_to_therapist": appointment.message,
    }


def _message(entry: OutboxEntry, config: Config) -> dict[str, Any]:
    data = entry.data
    content = (
        {"body": data.get("body")}
        if entry.channel == "sms"
        else {"subject": data.get("subject"), "text": data.get("text")}
    )
    return {
        "appointment_uid": entry.appointment_uid,
        "channel": entry.channel,
        "kind": entry.template,
        "recipient": entry.recipient,
        "state": entry.state,
        "problem": delivery_problem(entry.state, entry.last_error),
        "created_at": _time(entry.created_at, config),
        "sent_at": _time(entry.sent_at, config),
        **content,
    }


def _audit(entry: AuditEntry, config: Config) -> dict[str, Any]:
    return {
        "at": _time(entry.at, config),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "details": entry.details,
    }


def _event(appointment: Appointment, language: str, config: Config) -> PublishedEvent:
    practice = config.practice
    service = config.services.get(appointment.service)
    therapist = config.therapists.get(appointment.therapist)
    what = service.name(language) if service else appointment.service
    who = therapist.name if therapist else appointment.therapist
    return PublishedEvent(
        uid=appointment.uid,
        version=appointment.version,
        start=appointment.start_at,
        end=appointment.end_at,
        summary=f"{what} – {who}",
        location=practice.address,
        description=" · ".join(part for part in (practice.name, practice.phone) if part),
        cancelled=appointment.status == CANCELLED,
    )


def _time(moment: datetime | None, config: Config) -> str | None:
    return moment.astimezone(config.practice.tz).isoformat() if moment else None

"""The practice's patients as the admin sees them: all of them, each with their appointments
with every therapist and the messages sent to them; every list, search and read audited.

Audit entries carry no personal data: ``patient.list`` / ``patient.search`` on ``practice``
with the page and how many were shown (never the query), ``patient.read`` on
``patient:<id>`` with how many appointments and messages were shown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from caldav_bridge.patient_records import NoPatientError, patient_matches
from caldav_bridge.store import Appointment, Patient, Store
from caldav_bridge.store.outbox import OutboxEntry

PAGE_SIZE = 50
SUBJECT = "practice"


@dataclass(frozen=True)
class PatientPage:
    patients: tuple[Patient, ...]
    total: int  # how many matched
    page: int  # 1-based, within 1..pages
    pages: int


@dataclass(frozen=True)
class PracticePatientRecord:
    patient: Patient
    appointments: tuple[Appointment, ...]  # with every therapist, newest first
    messages: tuple[OutboxEntry, ...]  # sent (or to be sent) to the patient, newest first


def find_practice_patients(
    store: Store, actor: str, query: str, page: int = 1, size: int = PAGE_SIZE
) -> PatientPage:
    """Page ``page`` of the patients matching ``query`` (all of them for a blank query)."""
    with store.write() as tx:
        matching = [p for p in tx.all_patients() if patient_matches(p, query)]
        pages = max(1, math.ceil(len(matching) / size))
        page = min(max(page, 1), pages)
        shown = matching[(page - 1) * size : page * size]
        action = "patient.search" if query.strip() else "patient.list"
        tx.audit(actor, action, SUBJECT, f"page={page},shown={len(shown)}")
    return PatientPage(tuple(shown), len(matching), page, pages)


def open_practice_patient(store: Store, actor: str, patient_id: int) -> PracticePatientRecord:
    """The patient's record, appointments and messages, or raise `NoPatientError`."""
    with store.write() as tx:
        patient = tx.patient(patient_id)
        if patient is None:
            raise NoPatientError(str(patient_id))
        appointments = tx.appointments_of_patient(patient_id)[::-1]
        messages = tx.messages_to_patient(patient_id)
        details = f"appointments={len(appointments)},messages={len(messages)}"
        tx.audit(actor, "patient.read", f"patient:{patient_id}", details)
    return PracticePatientRecord(patient, tuple(appointments), tuple(messages))

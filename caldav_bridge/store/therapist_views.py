"""What the therapist space reads and edits: a therapist's patients and appointments.

A therapist sees the patients who have or had an appointment with them (any status), and the
patients they created; `visible_patients` and `visible_patient` are that rule, in SQL, so no
view can forget it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from caldav_bridge.store.appointments import Appointment, _appointment
from caldav_bridge.store.outbox import OutboxEntry
from caldav_bridge.store.patients import Patient, PatientDetails, _patient
from caldav_bridge.store.practice_patients import MESSAGES_LIMIT, messages_to_patient
from caldav_bridge.store.schema import appointments, patients
from caldav_bridge.store.transaction import TxBase

UID_CHUNK = 500  # UIDs per query (SQLite limits bound parameters)


@dataclass(frozen=True)
class AgendaAppointment:
    """What the agenda shows of one of the therapist's appointments."""

    uid: str
    service: str
    status: str
    patient_id: int | None
    first_name: str | None  # None once the patient's record is deleted
    last_name: str | None


@dataclass(frozen=True)
class PatientChanges:
    """A therapist's edit of a patient's record: contact details, reminders, notes."""

    details: PatientDetails
    sms_enabled: bool
    notes: str


def _visible_to(login: str) -> sa.ColumnElement[bool]:
    had_appointment = (
        sa.select(appointments.c.patient_id)
        .where(appointments.c.therapist == login, appointments.c.patient_id.is_not(None))
        .scalar_subquery()
    )
    return sa.or_(patients.c.created_by == login, patients.c.id.in_(had_appointment))


class TherapistViewQueries(TxBase):
    def visible_patients(self, login: str) -> list[Patient]:
        """Every patient ``login`` may see, by last then first name."""
        rows = self.conn.execute(
            sa.select(patients)
            .where(_visible_to(login))
            .order_by(patients.c.last_name, patients.c.first_name, patients.c.id)
        )
        return [_patient(row) for row in rows]

    def visible_patient(self, login: str, patient_id: int) -> Patient | None:
        """The patient, if ``login`` may see them; else None (as if it did not exist)."""
        row = self.conn.execute(
            sa.select(patients).where(patients.c.id == patient_id, _visible_to(login))
        ).first()
        return _patient(row) if row else None

    def therapist_appointments_of_patient(self, login: str, patient_id: int) -> list[Appointment]:
        """The patient's appointments with ``login`` only (not those with colleagues)."""
        rows = self.conn.execute(
            sa.select(appointments)
            .where(appointments.c.patient_id == patient_id, appointments.c.therapist == login)
            .order_by(appointments.c.start_at.desc())
        )
        return [_appointment(row) for row in rows]

    def therapist_messages_to_patient(
        self, login: str, patient_id: int, limit: int = MESSAGES_LIMIT
    ) -> list[OutboxEntry]:
        """The delivery log of the patient's messages about their appointments with ``login``
        only (a colleague's appointments with the same patient stay out), newest first."""
        return messages_to_patient(self.conn, patient_id, login, limit)

    def therapist_appointment(self, login: str, uid: str) -> Appointment | None:
        """``login``'s appointment ``uid``; None if it is someone else's or does not exist."""
        row = self.conn.execute(
            sa.select(appointments).where(
                appointments.c.uid == uid, appointments.c.therapist == login
            )
        ).first()
        return _appointment(row) if row else None

    def agenda_appointments(self, login: str, uids: Iterable[str]) -> dict[str, AgendaAppointment]:
        """Those of ``uids`` that are appointments of ``login``, with the patient's name."""
        wanted = sorted(set(uids))
        found: dict[str, AgendaAppointment] = {}
        query = (
            sa.select(
                appointments.c.uid,
                appointments.c.service,
                appointments.c.status,
                appointments.c.patient_id,
                patients.c.first_name,
                patients.c.last_name,
            )
            .outerjoin(patients, patients.c.id == appointments.c.patient_id)
            .where(appointments.c.therapist == login)
        )
        for at in range(0, len(wanted), UID_CHUNK):
            chunk = wanted[at : at + UID_CHUNK]
            for row in self.conn.execute(query.where(appointments.c.uid.in_(chunk))):
                found[row.uid] = AgendaAppointment(
                    row.uid, row.service, row.status, row.patient_id, row.first_name, row.last_name
                )
        return found

    def update_patient(self, patient_id: int, changes: PatientChanges) -> None:
        """Replace the patient's editable data (a blank email or phone erases it)."""
        details = changes.details
        self.conn.execute(
            patients.update()
            .where(patients.c.id == patient_id)
            .values(
                first_name=details.first_name,
                last_name=details.last_name,
                email=details.email,
                phone=details.phone,
                language=details.language,
                sms_enabled=changes.sms_enabled,
                notes=changes.notes,
                updated_at=self.now(),
            )
        )

    def set_appointment_sms(self, uid: str, enabled: bool) -> None:
        """The SMS reminder of one appointment on or off (the manage link stays valid)."""
        self.conn.execute(
            appointments.update()
            .where(appointments.c.uid == uid)
            .values(sms_enabled=enabled, updated_at=self.now())
        )

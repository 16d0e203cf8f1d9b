"""What the admin panel reads about the practice's patients: all of them, the messages sent to
one (the delivery log of their appointments, optionally with one therapist only) and the audit
entries about them.

The therapist space reads the same messages through `TherapistViewQueries`, limited to the
therapist's own appointments; both use `messages_to_patient`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from caldav_bridge.store.outbox import OutboxEntry, _entry
from caldav_bridge.store.patients import Patient, _patient
from caldav_bridge.store.records import AuditEntry
from caldav_bridge.store.schema import appointments, audit_log, outbox, patients
from caldav_bridge.store.transaction import TxBase

MESSAGES_LIMIT = 200  # the newest messages shown of one patient
CHUNK = 500  # subjects per query (SQLite limits bound parameters)
PATIENT_ROLE = "patient"


def messages_to_patient(
    conn: Connection, patient_id: int, therapist: str | None, limit: int | None
) -> list[OutboxEntry]:
    """The newest ``limit`` (None: all) messages addressed to the patient (not the therapists'
    notices about them) about their appointments, with ``therapist``'s only if given."""
    query = (
        sa.select(outbox)
        .join(appointments, appointments.c.uid == outbox.c.appointment_uid)
        .where(appointments.c.patient_id == patient_id)
        .order_by(outbox.c.created_at.desc(), outbox.c.id.desc())
    )
    if therapist is not None:
        query = query.where(appointments.c.therapist == therapist)
    found: list[OutboxEntry] = []
    for row in conn.execute(query):
        entry = _entry(row)
        if entry.data.get("role") == PATIENT_ROLE:
            found.append(entry)
            if limit is not None and len(found) >= limit:
                break
    return found


class PracticePatientQueries(TxBase):
    def all_patients(self) -> list[Patient]:
        """Every patient of the practice, by last then first name."""
        rows = self.conn.execute(
            sa.select(patients).order_by(patients.c.last_name, patients.c.first_name, patients.c.id)
        )
        return [_patient(row) for row in rows]

    def messages_to_patient(
        self, patient_id: int, limit: int | None = MESSAGES_LIMIT
    ) -> list[OutboxEntry]:
        """The newest messages sent (or to be sent) to the patient, whoever the therapist
        (``limit`` None: all of them)."""
        return messages_to_patient(self.conn, patient_id, None, limit)

    def audit_entries_about(self, subjects: Sequence[str]) -> list[AuditEntry]:
        """The audit entries whose subject is one of ``subjects``, oldest first."""
        wanted = sorted(set(subjects))
        rows: list[sa.Row[tuple[object, ...]]] = []
        for at in range(0, len(wanted), CHUNK):
            query = sa.select(audit_log).where(audit_log.c.subject.in_(wanted[at : at + CHUNK]))
            rows.extend(self.conn.execute(query))
        rows.sort(key=lambda row: int(row.id))
        return [AuditEntry(r.at, r.actor, r.action, r.subject, r.details) for r in rows]

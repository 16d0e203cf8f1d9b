"""Patients: the minimum the practice needs to reach them (nFADP / GDPR: health data)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from caldav_bridge.store.schema import appointments, patients
from caldav_bridge.store.transaction import TxBase


@dataclass(frozen=True)
class Patient:
    id: int
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    language: str
    sms_enabled: bool
    notes: str
    consent_at: datetime | None
    created_by: str


@dataclass(frozen=True)
class PatientDetails:
    """What a booking form or the therapist space provides about a patient."""

    first_name: str
    last_name: str
    email: str | None
    phone: str | None  # E.164
    language: str


class PatientQueries(TxBase):
    def patient(self, patient_id: int) -> Patient | None:
        row = self.conn.execute(sa.select(patients).where(patients.c.id == patient_id)).first()
        return _patient(row) if row else None

    def matching_patient(self, details: PatientDetails) -> Patient | None:
        """A returning patient: same email, or same phone and name (case-insensitive).

        Names are compared in Python (``casefold``): SQLite's ``lower()`` only folds ASCII.
        """
        if details.email:
            row = self.conn.execute(
                sa.select(patients)
                .where(sa.func.lower(patients.c.email) == details.email.lower())
                .order_by(patients.c.id)
            ).first()
            if row:
                return _patient(row)
        if details.phone:
            rows = self.conn.execute(
                sa.select(patients).where(patients.c.phone == details.phone).order_by(patients.c.id)
            )
            wanted = (details.first_name.casefold(), details.last_name.casefold())
            for row in rows:
                if (row.first_name.casefold(), row.last_name.casefold()) == wanted:
                    return _patient(row)
        return None

    def add_patient(self, details: PatientDetails, created_by: str, consent: bool) -> Patient:
        now = self.now()
        result = self.conn.execute(
            patients.insert().values(
                first_name=details.first_name,
                last_name=details.last_name,
                email=details.email,
                phone=details.phone,
                language=details.language,
                sms_enabled=True,
                notes="",
                consent_at=now if consent else None,
                created_by=created_by,
                created_at=now,
                updated_at=now,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        found = self.patient(int(key[0]))
        assert found is not None
        return found

    def update_patient_contact(self, patient_id: int, details: PatientDetails) -> None:
        """Newer contact details from a returning patient; a blank never erases a known value."""
        values: dict[str, object] = {
            "first_name": details.first_name,
            "last_name": details.last_name,
            "language": details.language,
            "updated_at": self.now(),
        }
        if details.email:
            values["email"] = details.email
        if details.phone:
            values["phone"] = details.phone
        self.conn.execute(patients.update().where(patients.c.id == patient_id).values(**values))

    def record_consent(self, patient_id: int) -> None:
        self.conn.execute(
            patients.update()
            .where(patients.c.id == patient_id, patients.c.consent_at.is_(None))
            .values(consent_at=self.now())
        )

    def patients_count(self) -> int:
        return int(
            self.conn.execute(sa.select(sa.func.count()).select_from(patients)).scalar() or 0
        )

    def patient_of_appointment(self, uid: str) -> Patient | None:
        row = self.conn.execute(
            sa.select(patients)
            .join(appointments, appointments.c.patient_id == patients.c.id)
            .where(appointments.c.uid == uid)
        ).first()
        return _patient(row) if row else None


def _patient(row: sa.Row[tuple[object, ...]]) -> Patient:
    return Patient(
        id=row.id,
        first_name=row.first_name,
        last_name=row.last_name,
        email=row.email,
        phone=row.phone,
        language=row.language,
        sms_enabled=row.sms_enabled,
        notes=row.notes,
        consent_at=row.consent_at,
        created_by=row.created_by,
    )

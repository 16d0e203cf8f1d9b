"""Appointments: the booking facts, keyed by the UID of their event in the therapist's calendar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from caldav_bridge.store.schema import appointments
from caldav_bridge.store.transaction import TxBase

CONFIRMED = "confirmed"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class Appointment:
    uid: str
    therapist: str
    collection_path: str
    href: str
    patient_id: int | None
    service: str
    start_at: datetime
    end_at: datetime
    status: str
    created_by: str
    sms_enabled: bool
    version: int
    message: str = ""


class AppointmentQueries(TxBase):
    def appointment(self, uid: str) -> Appointment | None:
        row = self.conn.execute(sa.select(appointments).where(appointments.c.uid == uid)).first()
        return _appointment(row) if row else None

    def add_appointment(self, appointment: Appointment) -> None:
        now = self.now()
        self.conn.execute(
            appointments.insert().values(
                uid=appointment.uid,
                therapist=appointment.therapist,
                collection_path=appointment.collection_path,
                href=appointment.href,
                patient_id=appointment.patient_id,
                service=appointment.service,
                start_at=appointment.start_at,
                end_at=appointment.end_at,
                status=appointment.status,
                created_by=appointment.created_by,
                sms_enabled=appointment.sms_enabled,
                version=appointment.version,
                message=appointment.message,
                created_at=now,
                updated_at=now,
            )
        )

    def move_appointment(self, uid: str, start_at: datetime, end_at: datetime) -> int:
        """New times; returns the new version (older manage links stop working)."""
        return self._bump(uid, start_at=start_at, end_at=end_at)

    def cancel_appointment(self, uid: str) -> int:
        return self._bump(uid, status=CANCELLED)

    def _bump(self, uid: str, **values: object) -> int:
        self.conn.execute(
            appointments.update()
            .where(appointments.c.uid == uid)
            .values(version=appointments.c.version + 1, updated_at=self.now(), **values)
        )
        version = self.conn.execute(
            sa.select(appointments.c.version).where(appointments.c.uid == uid)
        ).scalar()
        assert version is not None
        return int(version)

    def appointments_of_patient(self, patient_id: int) -> list[Appointment]:
        rows = self.conn.execute(
            sa.select(appointments)
            .where(appointments.c.patient_id == patient_id)
            .order_by(appointments.c.start_at)
        )
        return [_appointment(r) for r in rows]


def _appointment(row: sa.Row[tuple[object, ...]]) -> Appointment:
    return Appointment(
        uid=row.uid,
        therapist=row.therapist,
        collection_path=row.collection_path,
        href=row.href,
        patient_id=row.patient_id,
        service=row.service,
        start_at=row.start_at,
        end_at=row.end_at,
        status=row.status,
        created_by=row.created_by,
        sms_enabled=row.sms_enabled,
        version=row.version,
        message=row.message,
    )

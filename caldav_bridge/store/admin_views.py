"""What the admin panel reads: a therapist's future appointments (before a deactivation) and
the delivery log of every message, failures first."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from caldav_bridge.store.appointments import CONFIRMED, Appointment, _appointment
from caldav_bridge.store.outbox import FAILED, UNCERTAIN, OutboxEntry, _entry
from caldav_bridge.store.schema import appointments, outbox
from caldav_bridge.store.transaction import TxBase

DELIVERY_LOG_LIMIT = 500


class AdminViewQueries(TxBase):
    def future_appointments(self, therapist: str, now: datetime) -> list[Appointment]:
        """``therapist``'s confirmed appointments that have not ended at ``now``, soonest first."""
        query = (
            sa.select(appointments)
            .where(
                appointments.c.therapist == therapist,
                appointments.c.status == CONFIRMED,
                appointments.c.end_at > now,
            )
            .order_by(appointments.c.start_at, appointments.c.uid)
        )
        return [_appointment(row) for row in self.conn.execute(query)]

    def delivery_log(self, limit: int = DELIVERY_LOG_LIMIT) -> list[OutboxEntry]:
        """Every message, failed and uncertain ones first, then newest first."""
        trouble = sa.case((outbox.c.state.in_([FAILED, UNCERTAIN]), 0), else_=1)
        query = sa.select(outbox).order_by(trouble, outbox.c.created_at.desc(), outbox.c.id.desc())
        return [_entry(row) for row in self.conn.execute(query.limit(limit))]

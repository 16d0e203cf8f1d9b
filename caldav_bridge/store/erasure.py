"""What erasing a patient writes (nFADP/GDPR; the use-case is `caldav_bridge.patient_erasure`).

The appointment rows stay, without their patient and their note (the therapist's history and
the statistics keep their times and services); the change log keeps every row, its texts
rewritten by the caller; the outbox keeps every row's state (`OutboxQueries.redact_messages`).
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from caldav_bridge.store.calendar import Change, Item, _change, _item, _items_query
from caldav_bridge.store.outbox import CLAIMED, PENDING, VOID
from caldav_bridge.store.patients import Patient, _patient
from caldav_bridge.store.schema import appointments, changes, collections, items, outbox, patients
from caldav_bridge.store.schema import state as state_table
from caldav_bridge.store.transaction import TxBase

UID_CHUNK = 500  # UIDs per query (SQLite limits bound parameters)


class ErasureQueries(TxBase):
    def lock_patient(self, patient_id: int) -> Patient | None:
        """The patient, their row locked until commit (PostgreSQL: an appointment that would
        refer to them waits, then finds them gone); None if there is none."""
        row = self.conn.execute(
            sa.select(patients).where(patients.c.id == patient_id).with_for_update()
        ).first()
        return _patient(row) if row else None

    def hold_state(self, name: str) -> None:
        """Wait for whoever holds the state row ``name`` and keep it until commit (the
        watcher's cursor: no batch of the change log is composed meanwhile)."""
        self.conn.execute(
            sa.select(state_table.c.value).where(state_table.c.name == name).with_for_update()
        )

    def items_of_uid(self, owner: str, uid: str) -> list[Item]:
        """Every item with ``uid`` in the calendars of ``owner``."""
        query = _items_query().where(collections.c.owner == owner, items.c.uid == uid)
        return [_item(row) for row in self.conn.execute(query.order_by(collections.c.path))]

    def messages_count(self, uids: Iterable[str], *, unsent: bool = False) -> int:
        """How many outbox rows belong to the appointments ``uids`` (``unsent``: of those
        that `void_unsent_messages` would void)."""
        wanted = sorted(set(uids))
        count = 0
        for at in range(0, len(wanted), UID_CHUNK):
            query = sa.select(sa.func.count()).where(
                outbox.c.appointment_uid.in_(wanted[at : at + UID_CHUNK])
            )
            if unsent:
                query = query.where(outbox.c.state.in_([PENDING, CLAIMED]))
            count += int(self.conn.execute(query).scalar() or 0)
        return count

    def changes_of_uid(self, uid: str) -> list[Change]:
        rows = self.conn.execute(
            sa.select(changes).where(changes.c.uid == uid).order_by(changes.c.seq)
        )
        return [_change(row) for row in rows]

    def rewrite_change_texts(self, seq: int, old_text: str | None, new_text: str | None) -> None:
        """Replace the texts of change ``seq``; its seq, and so every sync token, stays."""
        self.conn.execute(
            changes.update()
            .where(changes.c.seq == seq)
            .values(old_text=old_text, new_text=new_text)
        )

    def detach_appointment(self, uid: str) -> None:
        """The appointment without its patient and note; older manage links stop working."""
        self.conn.execute(
            appointments.update()
            .where(appointments.c.uid == uid)
            .values(
                patient_id=None,
                message="",
                version=appointments.c.version + 1,
                updated_at=self.now(),
            )
        )

    def void_unsent_messages(self, uid: str, reason: str) -> int:
        """Messages of the appointment not yet being sent will never be (a worker that claimed
        one finds it void at its point of no return). Returns how many."""
        result = self.conn.execute(
            outbox.update()
            .where(outbox.c.appointment_uid == uid, outbox.c.state.in_([PENDING, CLAIMED]))
            .values(state=VOID, last_error=reason)
        )
        return int(result.rowcount or 0)

    def delete_patient(self, patient_id: int) -> None:
        self.conn.execute(patients.delete().where(patients.c.id == patient_id))

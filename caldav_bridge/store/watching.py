"""What the watcher reads and writes besides the outbox: the settled end of the change log,
its cursor, its heartbeat, appointment rows following their events, due reminders.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from caldav_bridge.store.appointments import CONFIRMED
from caldav_bridge.store.schema import appointments, changes, patients, state
from caldav_bridge.store.transaction import TxBase

LOCK_TIMEOUT = "500ms"  # how long the change barrier waits for writers in flight (PostgreSQL)


class WatcherQueries(TxBase):
    def settled_change_seq(self, after: int = -1) -> int | None:
        """The newest change seq such that no transaction can still commit an older one.

        PostgreSQL assigns ``seq`` at insert time and transactions commit in any order, so a
        change may become visible after a newer one. ``LOCK TABLE ... IN SHARE MODE`` waits for
        every transaction that inserted a change to end (and briefly holds new ones off);
        afterwards each seq up to the maximum is committed or gone for good. None when the
        writers in flight do not finish within `LOCK_TIMEOUT` (try again at the next pass).
        SQLite has one writer at a time: seq order is commit order. Without a change after
        ``after`` there is nothing to wait for and no lock is taken.
        """
        latest = int(self.conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0)
        if latest <= after or self.conn.dialect.name != "postgresql":
            return latest
        try:
            with self.conn.begin_nested():
                self.conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                self.conn.exec_driver_sql("LOCK TABLE changes IN SHARE MODE")
        except sa.exc.OperationalError:
            return None
        return int(self.conn.execute(sa.select(sa.func.max(changes.c.seq))).scalar() or 0)

    def claim_cursor(self, name: str) -> int | None:
        """The cursor ``name``, locked until commit; None while another watcher holds it."""
        locked = (
            sa.select(state.c.value).where(state.c.name == name).with_for_update(skip_locked=True)
        )
        value = self.conn.execute(locked).scalar()
        if value is not None:
            return int(value)
        if self.conn.execute(sa.select(state.c.name).where(state.c.name == name)).first():
            return None  # exists: another watcher holds it
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(state).values(name=name, value="0", updated_at=self.now())
        self.conn.execute(insert.on_conflict_do_nothing(index_elements=["name"]))
        value = self.conn.execute(locked).scalar()
        return int(value) if value is not None else None

    def record_heartbeat(self, name: str, value: str) -> None:
        """``state[name] = value`` as one upsert: several watchers may beat at once."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        now = self.now()
        insert = dialect.insert(state).values(name=name, value=value, updated_at=now)
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=["name"], set_={"value": value, "updated_at": now}
            )
        )

    @contextmanager
    def isolated(self) -> Iterator[None]:
        """A savepoint: whatever the block wrote is undone if it raises (which propagates)."""
        with self.conn.begin_nested():
            yield

    def follow_event(
        self, uid: str, version: int, start_at: datetime, end_at: datetime, status: str
    ) -> int | None:
        """Make the appointment match its event, if it is still at ``version``; the new version
        (older manage links then say it changed), or None if it changed meanwhile."""
        result = self.conn.execute(
            appointments.update()
            .where(appointments.c.uid == uid, appointments.c.version == version)
            .values(
                start_at=start_at,
                end_at=end_at,
                status=status,
                version=version + 1,
                updated_at=self.now(),
            )
        )
        return version + 1 if result.rowcount == 1 else None

    def reminder_candidates(self, after: datetime, until: datetime) -> list[tuple[str, int]]:
        """(uid, patient id) of confirmed appointments starting in ``(after, until]``."""
        rows = self.conn.execute(
            sa.select(appointments.c.uid, appointments.c.patient_id)
            .join(patients, patients.c.id == appointments.c.patient_id)
            .where(
                appointments.c.status == CONFIRMED,
                appointments.c.start_at > after,
                appointments.c.start_at <= until,
            )
            .order_by(appointments.c.start_at)
        )
        return [(r.uid, r.patient_id) for r in rows]


def is_store_failure(exc: BaseException) -> bool:
    """Whether ``exc`` came from the database (then the transaction must not go on)."""
    return isinstance(exc, sa.exc.SQLAlchemyError)

"""Small named values (`state`) and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from caldav_bridge.store.schema import audit_log, state
from caldav_bridge.store.transaction import TxBase


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    subject: str
    details: str


class StateQueries(TxBase):
    def state_value(self, name: str) -> str | None:
        return self.conn.execute(sa.select(state.c.value).where(state.c.name == name)).scalar()

    def set_state_value(self, name: str, value: str) -> None:
        """Insert or replace, atomically (two writers never collide on the key)."""
        values = {"name": name, "value": value, "updated_at": self.now()}
        insert = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(state).values(**values)
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=[state.c.name],
                set_={
                    "value": statement.excluded.value,
                    "updated_at": statement.excluded.updated_at,
                },
            )
        )


class AuditQueries(TxBase):
    def audit(self, actor: str, action: str, subject: str, details: str = "") -> None:
        """Record that ``actor`` did ``action`` on ``subject`` (no patient data in ``details``)."""
        self.conn.execute(
            audit_log.insert().values(
                at=self.now(), actor=actor, action=action, subject=subject, details=details
            )
        )

    def audit_entries(self, limit: int = 200) -> list[AuditEntry]:
        rows = self.conn.execute(sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit))
        return [AuditEntry(r.at, r.actor, r.action, r.subject, r.details) for r in rows]

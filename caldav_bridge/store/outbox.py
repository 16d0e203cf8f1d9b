"""The outbox (DESIGN.md §7): the messages to send, and their delivery log.

A message is enqueued in the transaction of the change that needs it, under a unique
idempotency key, so a change that rolls back notifies nobody and a decision taken twice
enqueues once. Its state machine (see `caldav_bridge.notify.outbox` for the delivery side):

    pending --claim--> claimed --start_sending--> sending --mark_sent--> sent
       ^                  |                          |
       +---mark_retry-----+--------------------------+  (temporary failure, backoff)
    claimed/sending --mark_failed--> failed            (permanent failure, or too many tries)
    sending, lease expired --mark_uncertain--> uncertain (email: may have been delivered)
    pending/claimed --mark_void--> void                (a reminder that no longer applies)

``next_attempt_at`` is when a pending message is due, or when the lease of a claimed or
sending one expires (then another worker may take it over). ``attempts`` counts claims and is
the fencing token: a worker whose lease was taken over can no longer change the row.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from caldav_bridge.store.schema import outbox
from caldav_bridge.store.transaction import TxBase

PENDING, CLAIMED, SENDING, SENT = "pending", "claimed", "sending", "sent"
FAILED, UNCERTAIN, VOID = "failed", "uncertain", "void"


@dataclass(frozen=True)
class OutboxMessage:
    """A message to enqueue (``data``: what delivery needs, as JSON)."""

    key: str
    channel: str
    recipient: str
    template: str
    appointment_uid: str | None
    data: Mapping[str, Any]


@dataclass(frozen=True)
class OutboxEntry:
    id: int
    key: str
    channel: str
    recipient: str
    template: str
    appointment_uid: str | None
    data: Mapping[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    provider_id: str | None
    created_at: datetime
    sent_at: datetime | None


class OutboxQueries(TxBase):
    def enqueue(self, message: OutboxMessage, due_at: datetime) -> bool:
        """Add ``message``, to be sent from ``due_at``, unless its key exists; True if added."""
        now = self.now()
        values = {
            "idempotency_key": message.key,
            "channel": message.channel,
            "recipient": message.recipient,
            "template": message.template,
            "data": json.dumps(message.data, ensure_ascii=False, sort_keys=True),
            "appointment_uid": message.appointment_uid,
            "state": PENDING,
            "attempts": 0,
            "next_attempt_at": due_at,
            "created_at": now,
        }
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(outbox).values(**values)
        added = insert.on_conflict_do_nothing(index_elements=["idempotency_key"])
        return self.conn.execute(added.returning(outbox.c.id)).first() is not None

    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        if not keys:
            return set()
        rows = self.conn.execute(
            sa.select(outbox.c.idempotency_key).where(outbox.c.idempotency_key.in_(list(keys)))
        )
        return set(rows.scalars())

    def has_due_messages(self, now: datetime) -> bool:
        """Whether `claim_messages` would find anything (a read: an idle pass writes nothing)."""
        query = sa.select(outbox.c.id).where(
            outbox.c.state.in_([PENDING, CLAIMED, SENDING]), outbox.c.next_attempt_at <= now
        )
        return self.conn.execute(query.limit(1)).first() is not None

    def claim_messages(self, now: datetime, lease_until: datetime, limit: int) -> list[OutboxEntry]:
        """Take up to ``limit`` due messages for delivery until ``lease_until``.

        Due: pending ones whose time has come, and claimed or sending ones whose lease expired
        (their worker died). Rows another transaction holds are skipped (PostgreSQL); SQLite
        has one writer at a time. A sending row stays sending: it may have gone out.
        """
        query = (
            sa.select(outbox.c.id)
            .where(outbox.c.state.in_([PENDING, CLAIMED, SENDING]), outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = list(self.conn.execute(query).scalars())
        if not ids:
            return []
        self.conn.execute(
            outbox.update()
            .where(outbox.c.id.in_(ids))
            .values(
                state=sa.case((outbox.c.state == SENDING, SENDING), else_=CLAIMED),
                attempts=outbox.c.attempts + 1,
                next_attempt_at=lease_until,
            )
        )
        rows = self.conn.execute(
            sa.select(outbox).where(outbox.c.id.in_(ids)).order_by(outbox.c.id)
        )
        return [_entry(r) for r in rows]

    def start_sending(self, entry: OutboxEntry, lease_until: datetime) -> bool:
        """The point of no return: the worker holding ``entry``'s claim is about to send."""
        return self._transition(
            entry, (CLAIMED, SENDING), state=SENDING, next_attempt_at=lease_until
        )

    def mark_sent(self, entry: OutboxEntry, provider_id: str | None, now: datetime) -> None:
        """Proof of delivery wins over any other state but sent (a taken-over lease included)."""
        self.conn.execute(
            outbox.update()
            .where(outbox.c.id == entry.id, outbox.c.state.in_([CLAIMED, SENDING, UNCERTAIN]))
            .values(state=SENT, provider_id=provider_id, sent_at=now, last_error=None)
        )

    def mark_retry(self, entry: OutboxEntry, error: str, next_attempt_at: datetime) -> bool:
        return self._transition(
            entry,
            (CLAIMED, SENDING),
            state=PENDING,
            last_error=error,
            next_attempt_at=next_attempt_at,
        )

    def mark_failed(self, entry: OutboxEntry, error: str) -> bool:
        return self._transition(entry, (CLAIMED, SENDING), state=FAILED, last_error=error)

    def mark_uncertain(self, entry: OutboxEntry, error: str) -> bool:
        return self._transition(entry, (SENDING,), state=UNCERTAIN, last_error=error)

    def mark_void(self, entry: OutboxEntry, reason: str) -> bool:
        return self._transition(entry, (CLAIMED, SENDING), state=VOID, last_error=reason)

    def requeue(self, entry_id: int, now: datetime) -> bool:
        """Send a failed or uncertain message again (an admin's decision)."""
        result = self.conn.execute(
            outbox.update()
            .where(outbox.c.id == entry_id, outbox.c.state.in_([FAILED, UNCERTAIN]))
            .values(state=PENDING, next_attempt_at=now)
        )
        return result.rowcount == 1

    def outbox_entry(self, entry_id: int) -> OutboxEntry | None:
        row = self.conn.execute(sa.select(outbox).where(outbox.c.id == entry_id)).first()
        return _entry(row) if row else None

    def outbox_entries(self, appointment_uid: str | None = None) -> list[OutboxEntry]:
        """The delivery log: every message of one appointment (or all), oldest first."""
        query = sa.select(outbox).order_by(outbox.c.created_at, outbox.c.id)
        if appointment_uid is not None:
            query = query.where(outbox.c.appointment_uid == appointment_uid)
        return [_entry(r) for r in self.conn.execute(query)]

    def redact_messages(self, appointment_uid: str) -> int:
        """Forget what the messages of an appointment said and to whom (a patient's erasure,
        nFADP/GDPR); their states stay for the record. Returns how many rows were redacted."""
        result = self.conn.execute(
            outbox.update()
            .where(outbox.c.appointment_uid == appointment_uid)
            .values(recipient="", data="{}", last_error=None)
        )
        return int(result.rowcount or 0)

    def _transition(self, entry: OutboxEntry, sources: tuple[str, ...], **values: Any) -> bool:
        result = self.conn.execute(
            outbox.update()
            .where(
                outbox.c.id == entry.id,
                outbox.c.attempts == entry.attempts,
                outbox.c.state.in_(sources),
            )
            .values(**values)
        )
        return result.rowcount == 1


def _entry(row: sa.Row[tuple[object, ...]]) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        key=row.idempotency_key,
        channel=row.channel,
        recipient=row.recipient,
        template=row.template,
        appointment_uid=row.appointment_uid,
        data=json.loads(row.data),
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        provider_id=row.provider_id,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )

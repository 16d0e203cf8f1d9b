"""The outbox's state machine on SQLite and PostgreSQL, with a fake sender (no network):
leases, fencing of a worker whose lease was taken over, reconciliation, the admin's requeue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from caldav_bridge.notify.messages import Email
from caldav_bridge.notify.outbox import LEASE, DeliveryReport, deliver_due
from caldav_bridge.notify.senders import Envelope, Lookup, PermanentFailure, Senders
from caldav_bridge.store import Store
from caldav_bridge.store.outbox import OutboxMessage

T0 = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)


@dataclass
class FakeSender:
    """Records what it sends; ``script`` decides each send's outcome in turn."""

    sent: list[str] = field(default_factory=list)
    known: dict[str, str] = field(default_factory=dict)  # body -> provider id
    script: list[Callable[[Envelope], None]] = field(default_factory=list)

    def send(self, envelope: Envelope, go: Callable[[], bool]) -> str | None:
        if not go():
            return None
        if self.script:
            self.script.pop(0)(envelope)
        assert isinstance(envelope.content, Email)
        self.sent.append(envelope.content.text)
        self.known[envelope.content.text] = f"id-{len(self.sent)}"
        return f"id-{len(self.sent)}"

    def find(self, envelope: Envelope) -> Lookup:
        assert isinstance(envelope.content, Email)
        return Lookup(known=True, provider_id=self.known.get(envelope.content.text))


def message(key: str, text: str, uid: str | None = None) -> OutboxMessage:
    data = {"subject": "Rendez-vous", "text": text, "html": f"<p>{text}</p>"}
    return OutboxMessage(key, "email", "zoe@example.org", "booked_patient", uid, data)


def enqueue(store: Store, key: str = "k1", text: str = "Bonjour") -> None:
    with store.write() as tx:
        assert tx.enqueue(message(key, text), T0)


def deliver(store: Store, sender: FakeSender, now: datetime) -> DeliveryReport:
    report = DeliveryReport()
    deliver_due(store, Senders(email=sender, sms=sender), now, report)
    return report


def states(store: Store) -> list[tuple[str, int]]:
    with store.read() as tx:
        return [(e.state, e.attempts) for e in tx.outbox_entries()]


def test_a_key_is_enqueued_once(store: Store) -> None:
    enqueue(store)
    with store.write() as tx:
        assert not tx.enqueue(message("k1", "Another text"), T0)
    assert states(store) == [("pending", 0)]


def test_a_worker_whose_lease_was_taken_over_sends_nothing(store: Store) -> None:
    enqueue(store)
    with store.write() as tx:
        (slow,) = tx.claim_messages(T0, T0 + LEASE, 10)  # a worker that then stalls
    later = T0 + LEASE + timedelta(seconds=1)
    sender = FakeSender()
    assert deliver(store, sender, later).sent == 1  # another worker takes the message over
    with store.write() as tx:
        assert not tx.start_sending(slow, later + LEASE)  # the stalled one is fenced out
    assert sender.sent == ["Bonjour"]
    assert states(store) == [("sent", 2)]


def test_a_claim_that_expired_before_sending_is_simply_sent(store: Store) -> None:
    enqueue(store)
    with store.write() as tx:
        tx.claim_messages(T0, T0 + LEASE, 10)  # the worker died before sending
    sender = FakeSender()
    assert deliver(store, sender, T0 + timedelta(minutes=1)).handled == 0  # lease holds
    assert deliver(store, sender, T0 + LEASE).sent == 1
    assert sender.sent == ["Bonjour"]


def test_a_message_found_at_the_provider_after_a_crash_is_not_sent_again(store: Store) -> None:
    enqueue(store)
    with store.write() as tx:
        (entry,) = tx.claim_messages(T0, T0 + LEASE, 10)
        assert tx.start_sending(entry, T0 + LEASE)  # then: sent, and the worker died
    sender = FakeSender(known={"Bonjour": "id-earlier"})
    report = deliver(store, sender, T0 + LEASE)
    assert (report.sent, sender.sent) == (1, [])
    with store.read() as tx:
        (entry,) = tx.outbox_entries()
    assert (entry.state, entry.provider_id) == ("sent", "id-earlier")


def test_a_message_the_provider_never_got_is_sent_after_a_crash(store: Store) -> None:
    enqueue(store)
    with store.write() as tx:
        (entry,) = tx.claim_messages(T0, T0 + LEASE, 10)
        assert tx.start_sending(entry, T0 + LEASE)  # died before the request left
    sender = FakeSender()
    assert deliver(store, sender, T0 + LEASE).sent == 1
    assert sender.sent == ["Bonjour"]


def test_a_failed_message_may_be_requeued_by_the_admin(store: Store) -> None:
    enqueue(store)

    def refuse(_envelope: Envelope) -> None:
        raise PermanentFailure("Twilio 400 21614: not a mobile number", "twilio 21614")

    sender = FakeSender(script=[refuse])
    assert deliver(store, sender, T0).failed == 1
    with store.write() as tx:
        (entry,) = tx.outbox_entries()
        assert tx.requeue(entry.id, T0 + timedelta(hours=1))
        assert not tx.requeue(entry.id, T0 + timedelta(hours=1))  # pending: nothing to do
    assert deliver(store, sender, T0 + timedelta(hours=1)).sent == 1
    assert states(store) == [("sent", 2)]


@pytest.mark.parametrize("count", [25])
def test_one_pass_sends_every_due_message_in_batches(store: Store, count: int) -> None:
    for n in range(count):
        enqueue(store, f"k{n}", f"Message {n}")
    sender = FakeSender()
    assert deliver(store, sender, T0).sent == count
    assert sorted(sender.sent) == sorted(f"Message {n}" for n in range(count))


def test_erasing_a_patient_redacts_their_messages_but_keeps_the_log(store: Store) -> None:
    with store.write() as tx:
        assert tx.enqueue(message("k1", "Bonjour Zoë", uid="appt-1"), T0)
        assert tx.enqueue(message("k2", "Bonjour Hans", uid="appt-2"), T0)
    deliver(store, FakeSender(), T0)
    with store.write() as tx:
        assert tx.redact_messages("appt-1") == 1
    with store.read() as tx:
        zoe, hans = tx.outbox_entries()
    assert (zoe.state, zoe.recipient, zoe.data) == ("sent", "", {})
    assert (hans.recipient, hans.data["text"]) == ("zoe@example.org", "Bonjour Hans")

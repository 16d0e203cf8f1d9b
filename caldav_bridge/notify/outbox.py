"""Delivery: claim due messages, send each, record the outcome (DESIGN.md §7).

Exactly once, and where it ends:

1. A worker claims a message with a lease (`LEASE`) in one transaction; nothing left yet. If it
   dies now, the lease expires and another worker claims it again: safe.
2. The sender connects (SMTP: up to RCPT TO, so a refused address is known) and, just before
   the irreversible step, the worker commits ``sending`` (`start_sending`): the point of no
   return. A fenced worker (its lease was taken over) or a message that no longer applies
   (a reminder of a cancelled appointment) stops here, and nothing is sent.
3. The provider accepts (``sent``, with Twilio's SID), refuses for good (``failed``, logged
   at WARNING with the outbox id only) or for now (``pending`` again, exponential backoff,
   ``failed`` after `MAX_ATTEMPTS`).

A worker killed between 2 and 3 leaves ``sending``. When the lease expires the message is
reconciled, never blindly resent: Twilio is asked for a message with that recipient and body
among the number's recent ones (found: ``sent`` with its SID; not found: it never left and is
sent now); the demo's files are checked. SMTP keeps no record a client may query, so such an
email becomes ``uncertain``, shown in the delivery log for the practice to check (and
`requeue` it if need be). For email the guarantee is therefore "at most once, never silently
lost": the window runs from the commit of ``sending`` to the commit of ``sent`` (the DATA
command and one commit: milliseconds on a healthy server, at most `senders.TIMEOUT`).

Limits: acceptance is not delivery (a bounce sent later by the recipient's server, or an SMS
Twilio fails to deliver after accepting it, is not tracked); a worker frozen for longer than
`LEASE` in the middle of an SMS (SIGSTOP, a suspended VM) may overlap with the worker that
takes its lease over, and then the SMS may go out twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from caldav_bridge.notify.messages import announced_start, content_of
from caldav_bridge.notify.reminders import void_reason
from caldav_bridge.notify.senders import (
    DeliveryError,
    Envelope,
    Lookup,
    PermanentFailure,
    Senders,
    TemporaryFailure,
    UnknownOutcome,
)
from caldav_bridge.store import Store
from caldav_bridge.store.outbox import SENDING, OutboxEntry

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
CLAIM_BATCH = 10
MAX_PER_PASS = 200
MAX_ATTEMPTS = 12
BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=1)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    uncertain: int = 0
    skipped: int = 0  # void, fenced, or left for reconciliation

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.uncertain + self.skipped


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th temporary failure: 30 s, 1 min, 2 min, ... 1 h."""
    return min(BACKOFF_FIRST * (1 << min(max(attempts - 1, 0), 20)), BACKOFF_MAX)


def deliver_due(store: Store, senders: Senders, now: datetime, report: DeliveryReport) -> None:
    """Send every message due at ``now`` (at most `MAX_PER_PASS`)."""
    with store.read() as tx:
        if not tx.has_due_messages(now):
            return
    while report.handled < MAX_PER_PASS:
        with store.write() as tx:
            claimed = tx.claim_messages(now, now + LEASE, CLAIM_BATCH)
        if not claimed:
            return
        for entry in claimed:
            _deliver(store, senders, entry, now, report)


def _deliver(
    store: Store, senders: Senders, entry: OutboxEntry, now: datetime, report: DeliveryReport
) -> None:
    sender = senders.of(entry.channel)
    envelope = Envelope(
        entry.id, entry.key, entry.channel, entry.recipient, entry.template, content_of(entry)
    )
    if entry.state == SENDING:  # its worker died after the point of no return
        try:
            lookup = sender.find(envelope)
        except DeliveryError as failure:
            _unreconciled(store, entry, failure, report)
            return
        if _reconciled(store, lookup, entry, now, report):
            return
    try:
        provider_id = sender.send(envelope, lambda: _begin(store, entry, now))
    except DeliveryError as failure:
        _settle_failure(store, entry, failure, now, report)
        return
    if provider_id is None:
        report.skipped += 1
        return
    with store.write() as tx:
        tx.mark_sent(entry, provider_id[:64], now)
    report.sent += 1
    log.info("outbox %d: sent (%s)", entry.id, entry.channel)


def _reconciled(
    store: Store, lookup: Lookup, entry: OutboxEntry, now: datetime, report: DeliveryReport
) -> bool:
    """After a crash past the point of no return: True if the lookup settled the message."""
    if lookup.known and lookup.provider_id is None:
        return False  # it never left: send it now
    with store.write() as tx:
        if lookup.provider_id is not None:
            tx.mark_sent(entry, lookup.provider_id[:64], now)
            report.sent += 1
            log.info("outbox %d: found at the provider after a restart", entry.id)
            return True
        tx.mark_uncertain(entry, "interrupted while sending; the provider cannot tell")
    report.uncertain += 1
    log.warning("outbox %d: interrupted while sending, may not have been delivered", entry.id)
    return True


def _unreconciled(
    store: Store, entry: OutboxEntry, failure: DeliveryError, report: DeliveryReport
) -> None:
    """The provider could not be asked: stay ``sending`` (asked again when the new lease
    ends), and give up as ``uncertain`` after `MAX_ATTEMPTS`."""
    if entry.attempts < MAX_ATTEMPTS:
        report.skipped += 1
        log.info("outbox %d: cannot check with the provider yet (%s)", entry.id, failure.code)
        return
    with store.write() as tx:
        tx.mark_uncertain(entry, f"could not check with the provider: {failure.reason}")
    report.uncertain += 1
    log.warning("outbox %d: delivery uncertain (%s)", entry.id, failure.code)


def _begin(store: Store, entry: OutboxEntry, now: datetime) -> bool:
    """The point of no return, or the reason not to pass it (void, or fenced out)."""
    with store.write() as tx:
        appointment = tx.appointment(entry.appointment_uid) if entry.appointment_uid else None
        patient = (
            tx.patient(appointment.patient_id) if appointment and appointment.patient_id else None
        )
        reason = void_reason(
            entry.channel, entry.template, announced_start(entry), appointment, patient, now
        )
        if reason is not None:
            tx.mark_void(entry, reason)
            log.info("outbox %d: not sent (%s)", entry.id, reason)
            return False
        return tx.start_sending(entry, now + LEASE)


def _settle_failure(
    store: Store, entry: OutboxEntry, failure: DeliveryError, now: datetime, report: DeliveryReport
) -> None:
    with store.write() as tx:
        if isinstance(failure, UnknownOutcome):
            if entry.channel == "sms":
                report.skipped += 1  # stays sending: reconciled with Twilio when the lease ends
                log.warning("outbox %d: %s; will check with the provider", entry.id, failure.code)
                return
            tx.mark_uncertain(entry, failure.reason)
            report.uncertain += 1
            log.warning("outbox %d: delivery uncertain (%s)", entry.id, failure.code)
        elif isinstance(failure, PermanentFailure) or entry.attempts >= MAX_ATTEMPTS:
            reason = failure.reason
            if isinstance(failure, TemporaryFailure):
                reason = f"gave up after {entry.attempts} attempts: {reason}"
            tx.mark_failed(entry, reason)
            report.failed += 1
            log.warning("outbox %d: delivery failed permanently (%s)", entry.id, failure.code)
        else:
            tx.mark_retry(entry, failure.reason, now + backoff(entry.attempts))
            report.retried += 1
            log.info("outbox %d: will retry (%s)", entry.id, failure.code)

"""The watcher's intake: the change log and due reminders in, outbox rows out.

Each batch of changes is handled in ONE write transaction that also enqueues the messages and
advances the cursor, so a crash anywhere leaves either all of the batch or none of it done:
no change is missed and none is handled twice. The cursor row is locked for the batch
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL): a second watcher skips intake while the first
holds it. Changes are read only up to the settled seq (`settled_change_seq`), so a change
committed late with an older seq is never jumped over.

An appointment's event may be moved, changed or deleted from a calendar app: the appointment
row follows its event here, in the same transaction (version bumped, so older manage links
say it changed). Booking use-cases already updated the row; then it matches and only the
messages are enqueued. An appointment is the event at its row's calendar and href: moving it
to another calendar is a cancellation, and events elsewhere are the therapist's own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from caldav_bridge.notify.changes import AppointmentChange, appointment_change, event_facts
from caldav_bridge.notify.compose import Composer
from caldav_bridge.notify.reminders import reminder_channels, reminder_key, reminder_window
from caldav_bridge.store import Appointment, Change, Store, Tx
from caldav_bridge.store.appointments import CANCELLED, CONFIRMED
from caldav_bridge.store.watching import is_store_failure

log = logging.getLogger(__name__)

CURSOR = "watcher.cursor"
BATCH = 500  # changes read per transaction (the therapist's own events cost a lookup each)
NOTICES_PER_BATCH = 50  # appointment changes composed per transaction (~5 ms each)


@dataclass
class IntakeReport:
    changes: int = 0
    appointment_changes: int = 0
    enqueued: int = 0
    reminders: int = 0


def take_changes(store: Store, composer: Composer, now: datetime, report: IntakeReport) -> None:
    """Handle every settled change after the cursor, one bounded batch per transaction."""
    while _take_batch(store, composer, now, report):
        pass


def _take_batch(store: Store, composer: Composer, now: datetime, report: IntakeReport) -> bool:
    """One transaction's worth of changes; True if more may be waiting."""
    with store.read() as tx:
        settled = tx.settled_change_seq(after=int(tx.state_value(CURSOR) or 0))
    if settled is None:
        return False  # writers still in flight: next pass
    with store.write() as tx:
        cursor = tx.claim_cursor(CURSOR)
        if cursor is None or cursor >= settled:
            return False  # another watcher holds the cursor, or nothing new
        done, notices = cursor, report.appointment_changes + NOTICES_PER_BATCH
        for change in tx.changes_after(cursor, BATCH):
            if change.seq > settled or report.appointment_changes >= notices:
                break
            _isolated(tx, composer, change, now, report)
            done = change.seq
            report.changes += 1
        done = settled if done == cursor else done  # only gaps (rolled back) up to settled
        tx.set_state_value(CURSOR, str(done))
    return done < settled


def enqueue_reminders(
    store: Store, composer: Composer, now: datetime, report: IntakeReport
) -> None:
    """Enqueue the reminders that are due and not yet in the outbox."""
    settings = composer.config.notifications
    first, last = reminder_window(now, settings.reminder_lead)
    with store.read() as tx:
        due = _missing_reminders(tx, composer, tx.reminder_candidates(first, last))
    if not due:
        return
    with store.write() as tx:
        for uid in due:
            appointment = tx.appointment(uid)
            patient = (
                tx.patient(appointment.patient_id)
                if appointment and appointment.patient_id
                else None
            )
            if appointment is None or patient is None or appointment.status != CONFIRMED:
                continue
            channels = reminder_channels(settings, appointment, patient)
            item = tx.item(appointment.collection_path, appointment.href)
            facts = event_facts(item.text, composer.config.practice.tz) if item else None
            place = facts.location if facts else ""
            for message in composer.reminders(channels, appointment, patient, place, now):
                report.reminders += tx.enqueue(message.outbox_message(), now)


def _missing_reminders(tx: Tx, composer: Composer, candidates: list[tuple[str, int]]) -> list[str]:
    settings = composer.config.notifications
    missing = []
    for uid, patient_id in candidates:
        appointment, patient = tx.appointment(uid), tx.patient(patient_id)
        if appointment is None or patient is None:
            continue
        keys = [
            reminder_key(appointment, c) for c in reminder_channels(settings, appointment, patient)
        ]
        if set(keys) - tx.existing_keys(keys):
            missing.append(uid)
    return missing


def _isolated(
    tx: Tx, composer: Composer, change: Change, now: datetime, report: IntakeReport
) -> None:
    """One change in a savepoint: a bug on one change must not stop every later notice."""
    try:
        with tx.isolated():
            _handle(tx, composer, change, now, report)
    except Exception as exc:
        if is_store_failure(exc):
            raise  # the whole batch is retried at the next pass
        log.exception("change %d could not be handled; no message for it", change.seq)


def _handle(
    tx: Tx, composer: Composer, change: Change, now: datetime, report: IntakeReport
) -> None:
    appointment = tx.appointment(change.uid) if change.uid else None
    if appointment is None or (appointment.collection_path, appointment.href) != (
        change.collection_path,
        change.href,
    ):
        return  # not an appointment: the therapist's own event
    what = appointment_change(change.old_text, change.new_text, composer.config.practice.tz)
    if what is None:
        return  # nothing a patient would notice
    report.appointment_changes += 1
    appointment = _follow(tx, appointment, what, change)
    patient = tx.patient(appointment.patient_id) if appointment.patient_id else None
    for message in composer.for_change(change.seq, what, appointment, patient, change.actor, now):
        report.enqueued += tx.enqueue(message.outbox_message(), now)


def _follow(
    tx: Tx, appointment: Appointment, what: AppointmentChange, change: Change
) -> Appointment:
    """The appointment row made to match the event, if this change is the event's latest."""
    item = tx.item(change.collection_path, change.href)
    if (item.text if item else None) != change.new_text:
        return appointment  # a later change moved on; it will carry the row
    after = what.after
    if after is None or after.cancelled:
        start, end, status = appointment.start_at, appointment.end_at, CANCELLED
    else:
        start, end, status = after.start, after.end, CONFIRMED
    if (appointment.start_at, appointment.end_at, appointment.status) == (start, end, status):
        return appointment  # a booking use-case wrote it already
    version = tx.follow_event(appointment.uid, appointment.version, start, end, status)
    if version is None:
        return tx.appointment(appointment.uid) or appointment
    return replace(appointment, start_at=start, end_at=end, status=status, version=version)

"""Erasing a patient (nFADP art. 32 / GDPR art. 17): the admin's decision, done at once.

Refused while the patient has confirmed appointments that have not ended, as a therapist's
deactivation is: the practice cancels them first, through the usual paths, so the patient
is told (a notice cannot be sent once their address is gone). Otherwise, in ONE write
transaction holding the lock of every therapist the patient saw, the patient record's lock
and the watcher's cursor (no batch of the change log is composed meanwhile):

- each appointment's event, in its therapist's calendars, gets a neutral summary (the
  service's name) and loses everything that names the patient (`event_redaction`). It is a
  calendar write like any other: new etag, a change row, so ctag and sync tokens move and
  CalDAV clients fetch the redacted event. Times, status and place stay, so for the watcher
  it is no change a patient or therapist is told about;
- every change-log text of those events is redacted the same way; the rows and their seqs
  stay, so sync tokens stay valid;
- their messages lose recipients and texts (states stay, `redact_messages`); those not yet
  being sent are void;
- the appointment rows stay for the therapists' history, without patient and note;
- the patient row is deleted; the audit log records the erasure with counts only.

Nothing here logs: the audit entry is the record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from caldav_bridge.config import Config
from caldav_bridge.errors import BridgeError
from caldav_bridge.event_redaction import Identifiers, redacted_event
from caldav_bridge.notify.delivery_problems import ERASED
from caldav_bridge.notify.intake import CURSOR
from caldav_bridge.patient_records import NoPatientError, record_version
from caldav_bridge.store import Appointment, Patient, Span, Store, Tx
from caldav_bridge.store.appointments import CONFIRMED


class ErasureError(BridgeError):
    """Base of the refusals of an erasure; ``plan`` is how things stand now."""

    def __init__(self, plan: ErasurePlan) -> None:
        super().__init__(f"patient {plan.patient.id} not erased")
        self.plan = plan


class UpcomingAppointmentsError(ErasureError):
    """The patient has confirmed appointments that have not ended (``plan.upcoming``)."""


class PlanChangedError(ErasureError):
    """The record or the appointments changed since the admin confirmed."""


@dataclass(frozen=True)
class ErasurePlan:
    """What an erasure would do now: what the confirmation page says."""

    patient: Patient
    appointments: tuple[Appointment, ...]  # every one, oldest first
    upcoming: tuple[Appointment, ...]  # confirmed and not ended: the erasure waits for them
    events: int  # calendar events to redact
    messages: int  # messages whose recipient and texts go
    unsent: int  # of which not sent yet: they never will be
    version: str  # changes when any of the above does

    @property
    def therapists(self) -> tuple[str, ...]:
        return tuple(sorted({a.therapist for a in self.appointments}))


@dataclass(frozen=True)
class ErasureReport:
    appointments: int
    events: int
    changes: int
    messages: int

    def details(self) -> str:
        return (
            f"appointments={self.appointments},events={self.events},"
            f"changes={self.changes},messages={self.messages}"
        )


def erasure_plan(store: Store, actor: str, patient_id: int, now: datetime) -> ErasurePlan:
    """What erasing the patient would do (audited: it shows the record), or `NoPatientError`."""
    with store.write() as tx:
        plan = _plan(tx, patient_id, now)
        tx.audit(actor, "patient.erase_check", f"patient:{patient_id}")
    return plan


def erase_patient(
    store: Store, config: Config, actor: str, patient_id: int, version: str, now: datetime
) -> ErasureReport:
    """Erase the patient as planned at ``version``; raises `NoPatientError`,
    `UpcomingAppointmentsError` or `PlanChangedError` (and then nothing is written)."""
    locks = _locks(store, patient_id)
    with store.write(*locks) as tx:
        tx.hold_state(CURSOR)
        plan = _plan(tx, patient_id, now, lock=True)
        if plan.version != version or not set(plan.therapists) <= set(locks):
            raise PlanChangedError(plan)
        if plan.upcoming:
            raise UpcomingAppointmentsError(plan)
        report = _erase(tx, config, plan, actor, now)
        tx.audit(actor, "patient.erase", f"patient:{patient_id}", report.details())
    return report


def _locks(store: Store, patient_id: int) -> list[str]:
    """The therapists the patient saw, their record, and the lock of a new booking under
    their email (`caldav_bridge.booking.book`)."""
    with store.read() as tx:
        patient = tx.patient(patient_id)
        therapists = {a.therapist for a in tx.appointments_of_patient(patient_id)}
    locks = [*sorted(therapists), f"patient-record:{patient_id}"]
    if patient is not None and patient.email:
        locks.append(f"patient:{patient.email.lower()}")
    return locks


def _plan(tx: Tx, patient_id: int, now: datetime, *, lock: bool = False) -> ErasurePlan:
    patient = tx.lock_patient(patient_id) if lock else tx.patient(patient_id)
    if patient is None:
        raise NoPatientError(str(patient_id))
    appointments = tuple(tx.appointments_of_patient(patient_id))
    upcoming = tuple(a for a in appointments if a.status == CONFIRMED and a.end_at > now)
    events = sum(len(tx.items_of_uid(a.therapist, a.uid)) for a in appointments)
    messages = tx.messages_count(a.uid for a in appointments)
    unsent = tx.messages_count((a.uid for a in appointments), unsent=True)
    facts = [record_version(patient), *(f"{a.uid}:{a.status}:{a.version}" for a in appointments)]
    version = hashlib.sha256("\0".join(facts).encode()).hexdigest()[:20]
    return ErasurePlan(patient, appointments, upcoming, events, messages, unsent, version)


def _erase(tx: Tx, config: Config, plan: ErasurePlan, actor: str, now: datetime) -> ErasureReport:
    who = Identifiers.of(plan.patient)
    events = changes = messages = 0
    for appointment in plan.appointments:
        summary = neutral_summary(config, appointment)
        events += _redact_events(tx, appointment, summary, who, actor, now)
        changes += _redact_changes(tx, appointment.uid, summary, who)
        messages += tx.redact_messages(appointment.uid)
        tx.void_unsent_messages(appointment.uid, ERASED)
        tx.detach_appointment(appointment.uid)
    tx.delete_patient(plan.patient.id)
    return ErasureReport(len(plan.appointments), events, changes, messages)


def neutral_summary(config: Config, appointment: Appointment) -> str:
    """What the therapist's calendar shows of an erased patient's appointment."""
    service = config.services.get(appointment.service)
    return service.name(config.practice.default_language) if service else appointment.service


def _redact_events(
    tx: Tx, appointment: Appointment, summary: str, who: Identifiers, actor: str, now: datetime
) -> int:
    done = 0
    for item in tx.items_of_uid(appointment.therapist, appointment.uid):
        text = redacted_event(item.text, summary, who, stamp=now)
        if text is None:
            continue
        span = Span(item.uid, item.component, item.start_at, item.end_at)
        tx.put_item(item.collection_path, item.href, text, span, actor)
        done += 1
    return done


def _redact_changes(tx: Tx, uid: str, summary: str, who: Identifiers) -> int:
    """Redact each version in the change log on its own: what the watcher would compare
    between two versions (times, status, place) stays as it was."""
    done = 0
    for change in tx.changes_of_uid(uid):
        old = _redacted(change.old_text, summary, who)
        new = _redacted(change.new_text, summary, who)
        if (old, new) != (change.old_text, change.new_text):
            tx.rewrite_change_texts(change.seq, old, new)
            done += 1
    return done


def _redacted(text: str | None, summary: str, who: Identifiers) -> str | None:
    if text is None:
        return None
    redacted = redacted_event(text, summary, who)
    return text if redacted is None else redacted

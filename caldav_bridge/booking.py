"""Booking use-cases: book, reschedule and cancel an appointment (DESIGN.md §5, §7).

Each runs in one write transaction that holds the therapist's lock, re-checks the slot with
the slot engine, and writes the event into the therapist's `appointments` calendar (so every
calendar app sees it at its next sync), the appointment row and the change row together. A
patient can therefore never double-book, whatever path (page, API, CalDAV) races it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from caldav_bridge.appointment_event import AppointmentEvent, event_text
from caldav_bridge.availability import ANY, slot_at
from caldav_bridge.busy import series_span
from caldav_bridge.config import Config, ServiceConfig
from caldav_bridge.errors import BridgeError
from caldav_bridge.ical import load_calendar
from caldav_bridge.patient_details import initials
from caldav_bridge.slots import Slot
from caldav_bridge.store import Appointment, Patient, PatientDetails, Span, Store, Tx
from caldav_bridge.store.appointments import CANCELLED, CONFIRMED

APPOINTMENTS = "appointments"


class BookingError(BridgeError):
    """Base of the refusals a patient may meet; ``code`` is what the API and pages show."""

    code = "booking_error"


class SlotTakenError(BookingError):
    code = "slot_taken"


class UnknownChoiceError(BookingError):
    """An unknown or inactive service, or a therapist who does not offer it."""

    code = "unknown_choice"

    def __init__(self, field: str) -> None:
        super().__init__(f"unknown {field}")
        self.field = field


class ChangedError(BookingError):
    """The appointment changed since the link was sent (or was cancelled)."""

    code = "appointment_changed"


class CutoffPassedError(BookingError):
    code = "cutoff_passed"


class NoAppointmentError(BookingError):
    code = "no_appointment"


@dataclass(frozen=True)
class BookingRequest:
    service: str
    therapist: str  # a login, or "any"
    start: datetime
    patient: PatientDetails
    consent: bool
    message: str = ""
    actor: str = "patient"  # who books: the patient, a therapist's login, or "admin"


@dataclass(frozen=True)
class Booking:
    appointment: Appointment
    patient: Patient


def calendar_path(therapist: str) -> str:
    return f"{therapist}/{APPOINTMENTS}"


def book(
    store: Store,
    config: Config,
    request: BookingRequest,
    now: datetime,
    new_uid: Callable[[], str] = lambda: str(uuid.uuid4()),
) -> Booking:
    """Book ``request`` or raise `SlotTakenError` / `UnknownChoiceError`.

    Idempotent for the UID ``new_uid`` gives: a replayed form that carries its UID gets the
    first booking back, also when the two submissions race (the second waits for the
    therapist's lock, then finds the appointment).
    """
    service = service_by_id(config, request.service)
    uid = new_uid()
    for therapist in _candidates(config, service, request.therapist):
        locks = [therapist]
        if request.patient.email:  # two first bookings of one new patient: one record
            locks.append(f"patient:{request.patient.email.lower()}")
        with store.write(*locks) as tx:
            done = tx.appointment(uid)
            if done is not None:
                patient = tx.patient(done.patient_id) if done.patient_id else None
                if patient is not None:
                    return Booking(done, patient)
            slot = slot_at(tx, config, service, therapist, request.start, now)
            if slot is None:
                continue
            return _write_booking(tx, config, request, service, slot, uid)
    raise SlotTakenError("slot taken")


def reschedule(
    store: Store,
    config: Config,
    uid: str,
    version: int,
    start: datetime,
    now: datetime,
    actor: str,
    *,
    enforce_cutoff: bool,
) -> Appointment:
    """Move an appointment to ``start`` with the same therapist; the old time is freed only
    if the new one is obtained (one transaction)."""
    therapist = _therapist_of(store, uid)
    with store.write(therapist) as tx:
        current = _changeable(tx, config, uid, version, now, enforce_cutoff)
        service = service_by_id(config, current.service, allow_inactive=True)
        slot = slot_at(tx, config, service, therapist, start, now, moving=uid)
        if slot is None:
            raise SlotTakenError("slot taken")
        patient = tx.patient(current.patient_id) if current.patient_id else None
        moved = replace(current, start_at=slot.start, end_at=slot.end, version=current.version + 1)
        put_appointment_event(tx, config, moved, service, patient, actor)
        tx.move_appointment(uid, slot.start, slot.end)
        return moved


def cancel(
    store: Store,
    config: Config,
    uid: str,
    version: int,
    now: datetime,
    actor: str,
    *,
    enforce_cutoff: bool,
) -> Appointment:
    """Cancel: the event leaves the therapist's calendar; the appointment row stays, cancelled."""
    therapist = _therapist_of(store, uid)
    with store.write(therapist) as tx:
        current = _changeable(tx, config, uid, version, now, enforce_cutoff)
        tx.delete_item(current.collection_path, current.href, actor)
        tx.cancel_appointment(uid)
        return replace(current, status=CANCELLED, version=current.version + 1)


def _write_booking(
    tx: Tx, config: Config, request: BookingRequest, service: ServiceConfig, slot: Slot, uid: str
) -> Booking:
    patient = tx.matching_patient(request.patient)
    if patient is None:
        patient = tx.add_patient(request.patient, request.actor, request.consent)
    else:
        tx.update_patient_contact(patient.id, request.patient)
        if request.consent:
            tx.record_consent(patient.id)
        patient = tx.patient(patient.id) or patient
    appointment = Appointment(
        uid=uid,
        therapist=slot.therapist,
        collection_path=calendar_path(slot.therapist),
        href=f"{uid}.ics",
        patient_id=patient.id,
        service=service.id,
        start_at=slot.start,
        end_at=slot.end,
        status=CONFIRMED,
        created_by=request.actor,
        sms_enabled=patient.sms_enabled,
        version=1,
        message=request.message,
    )
    put_appointment_event(tx, config, appointment, service, patient, request.actor)
    tx.add_appointment(appointment)
    return Booking(appointment, patient)


def put_appointment_event(
    tx: Tx,
    config: Config,
    appointment: Appointment,
    service: ServiceConfig,
    patient: Patient | None,
    actor: str,
) -> None:
    """Write ``appointment``'s event into its calendar (logged with ``actor``)."""
    practice = config.practice
    who = ""
    if patient is not None:
        full = f"{patient.first_name} {patient.last_name}"
        who = (
            full
            if practice.privacy == "full_name"
            else initials(patient.first_name, patient.last_name)
        )
    link = f"{config.server.public_url}/therapist/appointments/{appointment.uid}"
    event = AppointmentEvent(
        uid=appointment.uid,
        start=appointment.start_at,
        end=appointment.end_at,
        summary=f"{service.name(practice.default_language)} – {who}"
        if who
        else service.name(practice.default_language),
        location=practice.address,
        description=link,
        url=link,
        sequence=appointment.version - 1,
    )
    text = event_text(event, tx.now(), practice.tz)
    start, end = series_span(load_calendar(text), practice.tz)
    span = Span(uid=appointment.uid, component="VEVENT", start_at=start, end_at=end)
    tx.put_item(appointment.collection_path, appointment.href, text, span, actor)


def _changeable(
    tx: Tx, config: Config, uid: str, version: int, now: datetime, enforce_cutoff: bool
) -> Appointment:
    current = tx.appointment(uid)
    if current is None:
        raise NoAppointmentError(uid)
    if current.version != version or current.status != CONFIRMED:
        raise ChangedError(uid)
    if enforce_cutoff and now > current.start_at - config.booking.patient_change_cutoff:
        raise CutoffPassedError(uid)
    return current


def _therapist_of(store: Store, uid: str) -> str:
    with store.read() as tx:
        found = tx.appointment(uid)
    if found is None:
        raise NoAppointmentError(uid)
    return found.therapist


def service_by_id(
    config: Config, service_id: str, *, allow_inactive: bool = False
) -> ServiceConfig:
    service = config.services.get(service_id)
    if service is None or not (service.active or allow_inactive):
        raise UnknownChoiceError("service")
    return service


def _candidates(config: Config, service: ServiceConfig, therapist: str) -> list[str]:
    offering = [
        login
        for login in service.therapists
        if login in config.therapists and config.therapists[login].active
    ]
    if therapist == ANY:
        return offering
    if therapist not in offering:
        raise UnknownChoiceError("therapist")
    return [therapist]

"""Appointments a therapist places themselves: at a slot of the engine, or at a time of their
own choosing once they have confirmed what is unusual about it.

`check_time` says what is unusual about a time: the engine does not offer it for the service
(outside the therapist's hours, too soon, not on the slot grid, or busy), and which events
that block time it overlaps. `book_manually` and `move_manually` take the therapist's lock,
check again, and refuse with `UnconfirmedTimeError` when the time has a warning the therapist
did not confirm. With nothing confirmed this is exactly the booking re-check (`slot_at` under
the lock), so a time the therapist did not explicitly accept can never be double-booked.

Each writes the event into the therapist's `appointments` calendar, the appointment row and the
change row (actor: the therapist's login) in one transaction, like `caldav_bridge.booking`,
whose helpers it reuses; the watcher sends the notices from the change log.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from caldav_bridge.agenda import Entry
from caldav_bridge.availability import SlotQueryError, find_slots, slot_at, slot_query
from caldav_bridge.booking import (
    BookingError,
    ChangedError,
    NoAppointmentError,
    UnknownChoiceError,
    calendar_path,
    put_appointment_event,
    service_by_id,
)
from caldav_bridge.calendar_entries import calendar_entries
from caldav_bridge.config import Config, ServiceConfig
from caldav_bridge.intervals import as_utc
from caldav_bridge.patient_records import NoPatientError
from caldav_bridge.store import Appointment, Store, Tx
from caldav_bridge.store.appointments import CONFIRMED

OUTSIDE_SLOTS = "outside_slots"
OVERLAP = "overlap:"


class InThePastError(BookingError):
    code = "in_the_past"


class UnconfirmedTimeError(BookingError):
    """The time has warnings the therapist has not confirmed; ``check`` lists them all."""

    code = "unconfirmed_time"

    def __init__(self, check: TimeCheck) -> None:
        super().__init__("unconfirmed time")
        self.check = check


@dataclass(frozen=True)
class TimeCheck:
    start: datetime
    end: datetime
    offered: bool  # the engine offers this start for the service
    overlaps: tuple[Entry, ...]  # the events blocking time that it overlaps

    @property
    def warnings(self) -> frozenset[str]:
        """What the therapist must confirm, as keys a form can send back."""
        found = {OVERLAP + entry.key for entry in self.overlaps}
        if not self.offered:
            found.add(OUTSIDE_SLOTS)
        return frozenset(found)


@dataclass(frozen=True)
class ManualBooking:
    therapist: str  # who books, and with whom
    patient_id: int
    service: str
    start: datetime
    uid: str  # chosen when the form was shown: a form sent twice books once
    confirmed: frozenset[str] = frozenset()


def check_time(
    tx: Tx,
    config: Config,
    therapist: str,
    service: ServiceConfig,
    start: datetime,
    now: datetime,
    language: str,
    *,
    moving: str | None = None,
) -> TimeCheck:
    """What is unusual about ``service`` at ``start`` with ``therapist`` (``moving``: the UID
    of the appointment being moved, whose own time does not count)."""
    end = start + service.duration
    offered = slot_at(tx, config, service, therapist, start, now, moving=moving) is not None
    overlaps = tuple(
        entry
        for entry in calendar_entries(tx, config, therapist, start, end, language)
        if entry.blocks_time
        and entry.uid != moving
        and as_utc(entry.start) < as_utc(end)
        and as_utc(entry.end) > as_utc(start)
    )
    return TimeCheck(start, end, offered, overlaps)


def offered_service(config: Config, service_id: str, therapist: str) -> ServiceConfig:
    """An active service that ``therapist`` offers, or raise `UnknownChoiceError`."""
    service = config.services.get(service_id)
    if service is None or not service.active or therapist not in service.therapists:
        raise UnknownChoiceError("service")
    return service


def book_manually(
    store: Store, config: Config, request: ManualBooking, now: datetime, language: str
) -> Appointment:
    """Book ``request`` for the therapist's patient; idempotent for ``request.uid``."""
    login = request.therapist
    service = offered_service(config, request.service, login)
    with store.write(login) as tx:
        done = tx.appointment(request.uid)
        if done is not None:
            if done.therapist == login and done.patient_id == request.patient_id:
                return done  # the same form, sent again
            raise ChangedError(request.uid)
        patient = tx.visible_patient(login, request.patient_id)
        if patient is None:
            raise NoPatientError(str(request.patient_id))
        _require_future(request.start, now)
        check = check_time(tx, config, login, service, request.start, now, language)
        if check.warnings - request.confirmed:
            raise UnconfirmedTimeError(check)
        appointment = Appointment(
            uid=request.uid,
            therapist=login,
            collection_path=calendar_path(login),
            href=f"{request.uid}.ics",
            patient_id=patient.id,
            service=service.id,
            start_at=check.start,
            end_at=check.end,
            status=CONFIRMED,
            created_by=login,
            sms_enabled=patient.sms_enabled,
            version=1,
        )
        put_appointment_event(tx, config, appointment, service, patient, login)
        tx.add_appointment(appointment)
        return appointment


def move_manually(
    store: Store,
    config: Config,
    login: str,
    uid: str,
    version: int,
    start: datetime,
    now: datetime,
    confirmed: frozenset[str],
    language: str,
) -> Appointment:
    """Move ``login``'s appointment (still at ``version``) to ``start``; the old time is freed
    only if the new one is obtained (one transaction)."""
    with store.write(login) as tx:
        current = tx.therapist_appointment(login, uid)
        if current is None:
            raise NoAppointmentError(uid)
        if current.version != version or current.status != CONFIRMED:
            raise ChangedError(uid)
        service = service_by_id(config, current.service, allow_inactive=True)
        _require_future(start, now)
        check = check_time(tx, config, login, service, start, now, language, moving=uid)
        if check.warnings - confirmed:
            raise UnconfirmedTimeError(check)
        patient = tx.patient(current.patient_id) if current.patient_id else None
        moved = replace(
            current, start_at=check.start, end_at=check.end, version=current.version + 1
        )
        put_appointment_event(tx, config, moved, service, patient, login)
        tx.move_appointment(uid, moved.start_at, moved.end_at)
        return moved


def _require_future(start: datetime, now: datetime) -> None:
    if as_utc(start) < as_utc(now):
        raise InThePastError(start.isoformat())


def therapist_services(config: Config, therapist: str) -> list[ServiceConfig]:
    """The active services ``therapist`` offers, in the configuration's order."""
    return [s for s in config.services.values() if s.active and therapist in s.therapists]


def free_starts(
    tx: Tx,
    config: Config,
    service: ServiceConfig,
    therapist: str,
    day: date,
    now: datetime,
    *,
    moving: str | None = None,
) -> list[datetime]:
    """The starts the engine offers for ``service`` with ``therapist`` on ``day`` (none when
    the service is no longer offered)."""
    try:
        query = slot_query(config, service.id, therapist, day, 1)
    except SlotQueryError:
        return []
    starts: list[datetime] = []
    for slot in find_slots(tx, config, query, now, moving=moving):
        if slot.start not in starts:
            starts.append(slot.start)
    return starts

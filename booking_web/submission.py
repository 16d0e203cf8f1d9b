"""One path for a booking, from the booking page and from the API: validate, then `book()`.

`submit_booking` checks every field and names each problem (a field -> code mapping the page
shows next to its field and the API returns as is), then calls `caldav_bridge.booking.book`,
which re-checks the slot inside the therapist's locked transaction.

Replays: the booking page gives every details form its own appointment UID (signed into the
form). A second submission of the same form finds that UID booked and gets the first
booking back, also when both submissions race (`book()` is idempotent for the UID).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caldav_bridge.availability import ANY, slot_rule
from caldav_bridge.booking import BookingRequest, UnknownChoiceError, book
from caldav_bridge.config import Config, ServiceConfig
from caldav_bridge.opening_hours import open_periods
from caldav_bridge.patient_details import CONSENT_REQUIRED, check_details
from caldav_bridge.runtime import Runtime
from caldav_bridge.slots import BookingWindow, offered_slot
from caldav_bridge.store import Appointment, Store

# Codes for the choice and the start (the patient's details use patient_details' codes).
REQUIRED = "required"
INVALID = "invalid"  # a JSON value of the wrong type
UNKNOWN_CHOICE = "unknown_choice"
INVALID_DATETIME = "invalid_datetime"
IN_THE_PAST = "in_the_past"
TOO_SOON = "too_soon"
BEYOND_HORIZON = "beyond_horizon"
NOT_A_SLOT = "not_a_slot"
DETAIL_FIELDS = ("first_name", "last_name", "email", "phone", "language", "message")
_ANYTIME = BookingWindow(minimum_notice=timedelta(0), horizon=timedelta(days=36600))


class InvalidBookingError(Exception):
    """Fields that are missing or wrong; ``fields`` maps each to its code."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(", ".join(f"{name}: {code}" for name, code in fields.items()))
        self.fields = dict(fields)


@dataclass(frozen=True)
class BookingInput:
    service: str
    therapist: str  # a login or "any"
    start: str  # ISO 8601 with its UTC offset
    details: Mapping[str, str]  # DETAIL_FIELDS
    consent: bool
    uid: str | None = None  # the form's own UID: a replay returns the first booking
    problems: Mapping[str, str] = field(default_factory=dict)  # found while reading input


def submit_booking(rt: Runtime, data: BookingInput, actor: str = "patient") -> Appointment:
    """Book ``data`` or raise `InvalidBookingError` or `caldav_bridge.booking.SlotTakenError`."""
    if data.uid is not None and (done := booked(rt.store, data.uid)) is not None:
        return done
    config, now = rt.config, rt.clock()
    errors: dict[str, str] = {}
    service = config.services.get(data.service)
    if service is None or not service.active:
        errors["service"] = REQUIRED if not data.service else UNKNOWN_CHOICE
        service = None
    therapists = _therapists(config, service, data.therapist, errors)
    start = _start(data.start, errors)
    checked = check_details(data.details, config.practice.languages)
    errors.update(checked.errors)
    if not data.consent:
        errors["consent"] = CONSENT_REQUIRED
    if service is not None and therapists and start is not None:
        problem = start_problem(config, service, therapists, start, now)
        if problem is not None:
            errors["start"] = problem
    errors.update(data.problems)
    if errors or checked.details is None or service is None or start is None:
        raise InvalidBookingError(errors)
    request = BookingRequest(
        service.id, data.therapist, start, checked.details, True, checked.message, actor
    )
    uid = data.uid or str(uuid.uuid4())
    try:  # book() is idempotent for the UID: a replay racing its twin gets the same booking
        return book(rt.store, config, request, now, lambda: uid).appointment
    except UnknownChoiceError as exc:  # the configuration changed between check and book
        raise InvalidBookingError({exc.field: UNKNOWN_CHOICE}) from exc


def booked(store: Store, uid: str) -> Appointment | None:
    with store.read() as tx:
        return tx.appointment(uid)


def start_problem(
    config: Config,
    service: ServiceConfig,
    therapists: Iterable[str],
    start: datetime,
    now: datetime,
) -> str | None:
    """Why ``start`` can never be booked now, whatever the calendars hold (None: it may be)."""
    policy = config.booking
    if start <= now:
        return IN_THE_PAST
    if start < now + policy.minimum_notice:
        return TOO_SOON
    if start > now + policy.horizon:
        return BEYOND_HORIZON
    grid_ignores_busy = service.availability == "flexible" or service.slots.fixed_anchor == "period"
    if grid_ignores_busy and not any(on_grid(config, service, t, start) for t in therapists):
        return NOT_A_SLOT
    return None


def on_grid(config: Config, service: ServiceConfig, therapist: str, start: datetime) -> bool:
    """Whether the engine would offer ``start`` with ``therapist`` if their calendar were free."""
    tz = config.practice.tz
    day = start.astimezone(tz).date()
    settings = config.therapists[therapist]
    periods = open_periods(
        settings.weekly_hours, settings.exceptions, tz, day - timedelta(days=1), day
    )
    rule = slot_rule(service)
    return offered_slot(start, periods, [], rule, _ANYTIME, start, therapist) is not None


def offering(config: Config, service: ServiceConfig) -> list[str]:
    """The active therapists who offer ``service``, in the configuration's order."""
    return [
        login
        for login in service.therapists
        if login in config.therapists and config.therapists[login].active
    ]


def _therapists(
    config: Config, service: ServiceConfig | None, therapist: str, errors: dict[str, str]
) -> list[str]:
    if not therapist:
        errors["therapist"] = REQUIRED
        return []
    if service is None:
        return []
    candidates = offering(config, service)
    if therapist == ANY:
        return candidates
    if therapist not in candidates:
        errors["therapist"] = UNKNOWN_CHOICE
        return []
    return [therapist]


def _start(text: str, errors: dict[str, str]) -> datetime | None:
    if not text:
        errors["start"] = REQUIRED
        return None
    try:
        start = datetime.fromisoformat(text)
    except ValueError:
        start = None
    if start is None or start.utcoffset() is None:
        errors["start"] = INVALID_DATETIME
        return None
    return start

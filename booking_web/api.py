"""The JSON API (/api/v1): what integrations and the booking page's script use.

No cookies, so no CSRF token; booking attempts are rate-limited with the booking page's."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, request

from booking_web.context import runtime
from booking_web.manage import manage_url
from booking_web.rate_limit import count_booking_attempt
from booking_web.submission import (
    DETAIL_FIELDS,
    INVALID,
    BookingInput,
    InvalidBookingError,
    submit_booking,
)
from caldav_bridge.availability import ANY, SlotQueryError, find_slots, slot_json, slot_query
from caldav_bridge.booking import SlotTakenError

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def parameter_error(parameter: str, message: str, status: int = 400) -> tuple[Response, int]:
    body = {"error": "not_found" if status == 404 else "invalid_parameter"}
    body.update(parameter=parameter, message=message)
    return jsonify(body), status


@bp.get("/slots")
def slots() -> tuple[Response, int]:
    """``?service=ID&therapist=LOGIN|any&from=YYYY-MM-DD&days=N`` -> the offered slots."""
    rt = runtime()
    args = request.args
    for required in ("service", "from"):
        if not args.get(required):
            return parameter_error(required, f"the parameter {required!r} is required")
    try:
        first = date.fromisoformat(args["from"])
    except ValueError:
        return parameter_error("from", "expected a date as YYYY-MM-DD")
    days_text = args.get("days", "7")
    if not days_text.isdigit():
        return parameter_error("days", "expected a whole number of days")
    config = rt.config
    try:
        query = slot_query(
            config, args["service"], args.get("therapist", ANY), first, int(days_text)
        )
    except SlotQueryError as exc:
        return parameter_error(exc.parameter, str(exc), 404 if exc.not_found else 400)
    with rt.store.read() as tx:
        found = find_slots(tx, config, query, rt.clock())
    return jsonify([slot_json(slot) for slot in found]), 200


@bp.post("/bookings")
def create_booking() -> tuple[Response, int] | tuple[Response, int, dict[str, str]]:
    """Book a slot: 201 with the appointment, 409 slot taken, 422 invalid fields, 400
    malformed JSON, 429 rate-limited (with Retry-After). Rate-limited with the booking page."""
    rt = runtime()
    verdict = count_booking_attempt(rt)
    if not verdict.allowed:
        return jsonify(error="rate_limited"), 429, {"Retry-After": str(verdict.retry_after)}
    body = request.get_json(force=True, silent=True)
    if not isinstance(body, dict):
        return jsonify(error="malformed_json", message="expected a JSON object"), 400
    try:
        appointment = submit_booking(rt, booking_input(body))
    except SlotTakenError:
        return jsonify(error="slot_taken"), 409
    except InvalidBookingError as exc:
        return jsonify(error="invalid", fields=exc.fields), 422
    tz = rt.config.practice.tz
    return jsonify(
        uid=appointment.uid,
        start=appointment.start_at.astimezone(tz).isoformat(),
        end=appointment.end_at.astimezone(tz).isoformat(),
        therapist=appointment.therapist,
        service=appointment.service,
        manage_url=manage_url(rt, appointment),
    ), 201


def booking_input(body: dict[str, Any]) -> BookingInput:
    """The request body as the booking page's input; values of the wrong type are noted."""
    problems: dict[str, str] = {}

    def text(source: dict[str, Any], name: str, default: str = "") -> str:
        value = source.get(name, default)
        if value is None:
            return default
        if not isinstance(value, str):
            problems[name] = INVALID
            return ""
        return value

    patient = body.get("patient", {})
    if not isinstance(patient, dict):
        problems["patient"] = INVALID
        patient = {}
    details = {name: text(patient, name) for name in DETAIL_FIELDS if name != "message"}
    details["message"] = text(body, "message")
    consent = body.get("consent")
    if consent is not None and not isinstance(consent, bool):
        problems["consent"] = INVALID
    return BookingInput(
        service=text(body, "service"),
        therapist=text(body, "therapist", ANY),
        start=text(body, "start"),
        details=details,
        consent=consent is True,
        problems=problems,
    )

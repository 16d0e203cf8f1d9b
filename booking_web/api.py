"""The JSON API (/api/v1): what integrations and the booking page's script use."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, jsonify, request

from booking_web.context import runtime
from caldav_bridge.availability import ANY, SlotQueryError, find_slots, slot_json, slot_query

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

"""The patient's booking pages: service -> therapist -> week and day -> slot -> details ->
confirm -> confirmation (GET pages carry their choice in the address; only the confirm POST
changes anything).

The details form carries one signed value (``booking``): the chosen service, therapist, start
and an appointment UID picked for this form, so a replayed form finds its own booking
(`booking_web.submission`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.field_messages import field_message, start_message
from booking_web.i18n import _, current_language
from booking_web.manage import CANCELLED_STATE, manage_url, open_link
from booking_web.rate_limit import count_booking_attempt, too_many_attempts
from booking_web.security import content_security_policy, honeypot_filled, private_page
from booking_web.submission import (
    DETAIL_FIELDS,
    INVALID_DATETIME,
    BookingInput,
    InvalidBookingError,
    offering,
    start_problem,
    submit_booking,
)
from booking_web.week import parse_day, parse_instant, week_view
from caldav_bridge.availability import ANY, slot_at
from caldav_bridge.booking import SlotTakenError
from caldav_bridge.config import ServiceConfig
from caldav_bridge.manage_links import manage_token
from caldav_bridge.runtime import Runtime

bp = Blueprint("book", __name__, url_prefix="/book")
bp.after_request(content_security_policy)

FORM_SALT = "booking_web.booking-form"
FORM_MAX_AGE = timedelta(hours=12)
SLOT_TAKEN = "slot_taken"


@dataclass(frozen=True)
class BookingForm:
    """What a details form was issued for (signed into its ``booking`` field)."""

    uid: str
    service: str
    therapist: str
    start: str

    def dump(self, secret_key: str) -> str:
        data = {"u": self.uid, "s": self.service, "t": self.therapist, "b": self.start}
        return URLSafeTimedSerializer(secret_key, salt=FORM_SALT).dumps(data)

    @classmethod
    def load(cls, secret_key: str, token: str) -> BookingForm | None:
        serializer = URLSafeTimedSerializer(secret_key, salt=FORM_SALT)
        try:
            data = serializer.loads(token, max_age=int(FORM_MAX_AGE.total_seconds()))
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not all(
            isinstance(data.get(k), str) for k in ("u", "s", "t", "b")
        ):
            return None
        return cls(data["u"], data["s"], data["t"], data["b"])


def _service(service_id: str) -> ServiceConfig:
    service = runtime().config.services.get(service_id)
    if service is None or not service.active:
        abort(404)
    return service


def _choice(service_id: str, therapist: str) -> tuple[ServiceConfig, list[str]]:
    """The service and the candidate therapists of a choice in the address, or 404."""
    service = _service(service_id)
    candidates = offering(runtime().config, service)
    if therapist != ANY:
        if therapist not in candidates:
            abort(404)
        candidates = [therapist]
    return service, candidates


@bp.get("/")
def services() -> str:
    config = runtime().config
    active = [s for s in config.services.values() if s.active and offering(config, s)]
    return render_template("book/services.html", services=active)


@bp.get("/<service_id>/")
def therapists(service_id: str) -> str:
    config = runtime().config
    service = _service(service_id)
    people = [config.therapists[login] for login in offering(config, service)]
    return render_template("book/therapists.html", service=service, therapists=people)


@bp.get("/<service_id>/<therapist>/")
def week(service_id: str, therapist: str) -> str:
    service, _candidates = _choice(service_id, therapist)
    rt = runtime()
    with rt.store.read() as tx:
        view = week_view(
            tx,
            rt.config,
            service.id,
            therapist,
            rt.clock(),
            week=parse_day(request.args.get("week")),
            day=parse_day(request.args.get("day")),
        )
    here: dict[str, Any] = {"service_id": service.id, "therapist": therapist}
    return render_template(
        "book/week.html",
        service=service,
        therapist=therapist,
        therapist_name=_therapist_name(rt, therapist),
        week=view,
        week_url=lambda monday: url_for("book.week", **here, week=monday.isoformat()),
        day_url=lambda day: url_for("book.week", **here, day=day.isoformat()),
        slot_action=url_for("book.details", **here),
        slot_hidden=[],
    )


@bp.get("/<service_id>/<therapist>/details")
def details(service_id: str, therapist: str) -> str | BaseResponse:
    service, candidates = _choice(service_id, therapist)
    rt = runtime()
    start = parse_instant(request.args.get("start", ""))
    problem = (
        INVALID_DATETIME
        if start is None
        else start_problem(rt.config, service, candidates, start, rt.clock())
    )
    if problem is None and start is not None and not _offered(rt, service, candidates, start):
        problem = SLOT_TAKEN
    if problem is not None:
        flash(start_message(problem, rt.config), "error")
        return _back_to_day(service.id, therapist, start)
    assert start is not None
    form = BookingForm(str(uuid.uuid4()), service.id, therapist, start.isoformat())
    return _details_page(rt, form, values={"language": current_language()}, errors={})


@bp.post("/confirm")
def confirm() -> str | BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    rt = runtime()
    verdict = count_booking_attempt(rt)
    if not verdict.allowed:
        return too_many_attempts(verdict)
    if honeypot_filled():
        return render_template("book/refused.html")
    form = BookingForm.load(rt.secret_key, request.form.get("booking", ""))
    if form is None:
        flash(_("This form has expired. Please choose your time again."), "error")
        return redirect(url_for("book.services"), 303)
    values = {name: request.form.get(name, "") for name in DETAIL_FIELDS}
    consent = request.form.get("consent") == "yes"
    data = BookingInput(form.service, form.therapist, form.start, values, consent, form.uid)
    try:
        appointment = submit_booking(rt, data)
    except SlotTakenError:
        flash(start_message(SLOT_TAKEN, rt.config), "error")
        return _back_to_day(form.service, form.therapist, parse_instant(form.start))
    except InvalidBookingError as exc:
        choice = {k: v for k, v in exc.fields.items() if k in ("service", "therapist", "start")}
        if choice:
            return _choice_refused(form, choice)
        page = _details_page(rt, form, values={**values, "consent": consent}, errors=exc.fields)
        return page, 422
    token = manage_token(rt.secret_key, appointment.uid, appointment.version)
    return redirect(url_for("book.confirmed", token=token), 303)


@bp.get("/confirmed/<token>")
def confirmed(token: str) -> BaseResponse:
    linked = open_link(token)
    if linked.state == CANCELLED_STATE:
        return redirect(url_for("manage.show", token=token))
    rt = runtime()
    page = render_template(
        "book/confirmed.html", linked=linked, manage_link=manage_url(rt, linked.appointment)
    )
    return private_page(BaseResponse(page, mimetype="text/html"))


def _details_page(
    rt: Runtime, form: BookingForm, values: dict[str, object], errors: dict[str, str]
) -> str:
    config = rt.config
    service = config.services[form.service]
    start = datetime.fromisoformat(form.start).astimezone(config.practice.tz)
    messages = {name: field_message(name, code) for name, code in errors.items()}
    return render_template(
        "book/details.html",
        service=service,
        therapist=form.therapist,
        therapist_name=_therapist_name(rt, form.therapist),
        start=start,
        end=start + service.duration,
        booking=form.dump(rt.secret_key),
        values=values,
        errors=messages,
        here=url_for(
            "book.details",
            service_id=form.service,
            therapist=form.therapist,
            start=form.start,
        ),
    )


def _choice_refused(form: BookingForm, fields: dict[str, str]) -> BaseResponse:
    config = runtime().config
    if "service" in fields or "therapist" in fields:
        flash(_("This choice is no longer offered online. Please choose again."), "error")
        return redirect(url_for("book.services"), 303)
    flash(start_message(fields["start"], config), "error")
    return _back_to_day(form.service, form.therapist, parse_instant(form.start))


def _back_to_day(service: str, therapist: str, start: datetime | None) -> BaseResponse:
    args: dict[str, Any] = {}
    if start is not None:
        args["day"] = start.astimezone(runtime().config.practice.tz).date().isoformat()
    return redirect(url_for("book.week", service_id=service, therapist=therapist, **args), 303)


def _offered(rt: Runtime, service: ServiceConfig, candidates: list[str], start: datetime) -> bool:
    now = rt.clock()
    with rt.store.read() as tx:
        return any(
            slot_at(tx, rt.config, service, login, start, now) is not None for login in candidates
        )


def _therapist_name(rt: Runtime, therapist: str) -> str:
    if therapist == ANY:
        return ""
    found = rt.config.therapists.get(therapist)
    return found.name if found else therapist

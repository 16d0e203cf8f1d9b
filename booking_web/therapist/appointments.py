"""One of the therapist's appointments: look at it, move it, cancel it, switch its SMS
reminder.

A move to a free time of the engine goes through `caldav_bridge.booking.reschedule` (the
engine's re-check under the therapist's lock, as for patients); a move to any other time first
shows what is unusual about it (outside the free times, overlapping events) and is written
only once the therapist confirms (`caldav_bridge.manual_booking.move_manually`). Moving and
cancelling carry the appointment's version: a form opened before another change gets a
conflict message and changes nothing. Another therapist's appointment is a 404.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import _, current_language
from booking_web.therapist.auth import current_login
from booking_web.therapist.blueprint import bp
from booking_web.therapist.messages import IN_THE_PAST, field_messages
from booking_web.therapist.placing import (
    ChosenTime,
    chosen_time,
    confirmation_page,
    confirmations,
    form_day,
    form_number,
    nearby_days,
)
from booking_web.week import parse_day
from caldav_bridge.appointment_records import has_started, open_appointment, set_sms_reminder
from caldav_bridge.booking import (
    ChangedError,
    NoAppointmentError,
    SlotTakenError,
    UnknownChoiceError,
    cancel,
    reschedule,
)
from caldav_bridge.config import ServiceConfig
from caldav_bridge.manual_booking import (
    InThePastError,
    TimeCheck,
    UnconfirmedTimeError,
    check_time,
    free_starts,
    move_manually,
)
from caldav_bridge.store import Appointment
from caldav_bridge.store.appointments import CONFIRMED

Page = str | tuple[str, int] | BaseResponse


@bp.get("/appointments/<uid>")
def appointment(uid: str) -> Page:
    return _appointment_page(uid)


@bp.post("/appointments/<uid>/sms")
def appointment_sms(uid: str) -> Page:
    wanted = request.form.get("sms", "")
    if wanted not in ("on", "off"):
        abort(400)
    try:
        set_sms_reminder(runtime().store, current_login(), uid, wanted == "on")
    except NoAppointmentError:
        abort(404)
    if wanted == "on":
        flash(_("The SMS reminder is on for this appointment."), "info")
    else:
        flash(_("The SMS reminder is off for this appointment."), "info")
    return redirect(url_for("therapist.appointment", uid=uid), 303)


@bp.get("/appointments/<uid>/move")
def move_form(uid: str) -> Page:
    current = _changeable_or_none(uid)
    if current is None:
        return redirect(url_for("therapist.appointment", uid=uid), 303)
    return _move_page(current, parse_day(request.args.get("day")))


@bp.post("/appointments/<uid>/move")
def move(uid: str) -> Page:
    rt = runtime()
    login, form = current_login(), request.form
    version = form_number(form.get("version"))
    if version is None:
        abort(400)
    current = _changeable_or_none(uid)
    if current is None:
        return redirect(url_for("therapist.appointment", uid=uid), 303)
    chosen = chosen_time(form, rt.config.practice.tz, rt.clock())
    if chosen.errors or chosen.start is None:
        return _move_page(current, form_day(form, rt.config.practice.tz), dict(chosen.errors)), 422
    confirmed = confirmations(form)
    try:
        _moved(uid, version, chosen, confirmed)
    except UnknownChoiceError:
        flash(
            _("The service of this appointment is no longer offered: it cannot be moved here."),
            "error",
        )
        return redirect(url_for("therapist.appointment", uid=uid), 303)
    except SlotTakenError:
        service = _service_of(current)
        with rt.store.read() as tx:
            check = check_time(
                tx,
                rt.config,
                login,
                service,
                chosen.start,
                rt.clock(),
                current_language(),
                moving=uid,
            )
        return _move_confirmation(current, version, check)
    except UnconfirmedTimeError as exc:
        return _move_confirmation(current, version, exc.check)
    except InThePastError:
        return _move_page(
            current, form_day(form, rt.config.practice.tz), {"time": IN_THE_PAST}
        ), 422
    except ChangedError:
        return _appointment_page(uid, conflict=True), 409
    except NoAppointmentError:
        abort(404)
    flash(_("The appointment has been moved. The patient will be informed."), "info")
    return redirect(url_for("therapist.appointment", uid=uid), 303)


def _moved(uid: str, version: int, chosen: ChosenTime, confirmed: frozenset[str]) -> Appointment:
    rt = runtime()
    assert chosen.start is not None
    if chosen.from_slot and not confirmed:  # a free time: the engine's re-check, as for patients
        return reschedule(
            rt.store,
            rt.config,
            uid,
            version,
            chosen.start,
            rt.clock(),
            current_login(),
            enforce_cutoff=False,
        )
    return move_manually(
        rt.store,
        rt.config,
        current_login(),
        uid,
        version,
        chosen.start,
        rt.clock(),
        confirmed,
        current_language(),
    )


@bp.get("/appointments/<uid>/cancel")
def cancel_form(uid: str) -> Page:
    current = _changeable_or_none(uid)
    if current is None:
        return redirect(url_for("therapist.appointment", uid=uid), 303)
    record = open_appointment(runtime().store, current_login(), uid)
    return render_template("therapist/appointment_cancel.html", record=record)


@bp.post("/appointments/<uid>/cancel")
def cancel_post(uid: str) -> Page:
    rt = runtime()
    version = form_number(request.form.get("version"))
    if version is None:
        abort(400)
    if _changeable_or_none(uid) is None:
        return redirect(url_for("therapist.appointment", uid=uid), 303)
    try:
        cancel(rt.store, rt.config, uid, version, rt.clock(), current_login(), enforce_cutoff=False)
    except ChangedError:
        return _appointment_page(uid, conflict=True), 409
    except NoAppointmentError:
        abort(404)
    flash(_("The appointment has been cancelled. The patient will be informed."), "info")
    return redirect(url_for("therapist.appointment", uid=uid), 303)


# -- pages and helpers ---------------------------------------------------------------------


def _appointment_page(uid: str, *, conflict: bool = False) -> str:
    rt = runtime()
    try:
        record = open_appointment(rt.store, current_login(), uid)
    except NoAppointmentError:
        abort(404)
    current = record.appointment
    return render_template(
        "therapist/appointment.html",
        record=record,
        changeable=current.status == CONFIRMED and not has_started(current, rt.clock()),
        started=has_started(current, rt.clock()),
        conflict=conflict,
        agenda_day=current.start_at.astimezone(rt.config.practice.tz).date(),
    )


def _move_page(current: Appointment, day: date | None, errors: dict[str, str] | None = None) -> str:
    rt = runtime()
    config, now = rt.config, rt.clock()
    day = day or current.start_at.astimezone(config.practice.tz).date()
    service = config.services.get(current.service)
    starts: list[datetime] = []
    if service is not None:
        with rt.store.read() as tx:
            starts = free_starts(tx, config, service, current_login(), day, now, moving=current.uid)
    record = open_appointment(rt.store, current_login(), current.uid)
    return render_template(
        "therapist/appointment_move.html",
        record=record,
        day=day,
        days=nearby_days(day),
        starts=starts,
        values=request.form if request.method == "POST" else {},
        errors=field_messages(errors or {}),
    )


def _move_confirmation(current: Appointment, version: int, check: TimeCheck) -> str:
    fields = [("version", str(version))]
    back = url_for("therapist.move_form", uid=current.uid)
    action = url_for("therapist.move", uid=current.uid)
    return confirmation_page(check, action, fields, back, moving=current)


def _changeable_or_none(uid: str) -> Appointment | None:
    """``uid`` if it is the therapist's and may still change; None (with a message) if it was
    cancelled or has begun; 404 if it is not theirs."""
    rt = runtime()
    with rt.store.read() as tx:
        current = tx.therapist_appointment(current_login(), uid)
    if current is None:
        abort(404)
    if current.status != CONFIRMED:
        flash(_("This appointment has been cancelled: it can no longer be changed."), "error")
        return None
    if has_started(current, rt.clock()):
        flash(_("This appointment has begun: it can no longer be moved or cancelled."), "error")
        return None
    return current


def _service_of(current: Appointment) -> ServiceConfig:
    service = runtime().config.services.get(current.service)
    if service is None:  # reschedule found it a moment ago: the configuration just changed
        abort(409)
    return service

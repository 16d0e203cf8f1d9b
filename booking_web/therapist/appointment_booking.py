"""Booking an appointment for a patient: find or create the patient, choose the service and
a free time of the engine (re-checked under the therapist's lock when sent) or a date and a time
of the therapist's choosing (written once the therapist confirms what is unusual about it).

The form carries a UID chosen when it was shown: a form sent twice books once. A patient the
therapist may not see is a 404.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import _, current_language
from booking_web.therapist.auth import current_login
from booking_web.therapist.blueprint import bp
from booking_web.therapist.messages import IN_THE_PAST, UNKNOWN_SERVICE, field_messages
from booking_web.therapist.placing import (
    chosen_time,
    confirmation_page,
    confirmations,
    form_day,
    form_number,
    nearby_days,
)
from booking_web.week import parse_day
from caldav_bridge.booking import ChangedError, UnknownChoiceError
from caldav_bridge.manual_booking import (
    InThePastError,
    ManualBooking,
    UnconfirmedTimeError,
    book_manually,
    free_starts,
    offered_service,
    therapist_services,
)
from caldav_bridge.patient_records import NoPatientError, find_patients, visible_patient
from caldav_bridge.store import Patient

Page = str | tuple[str, int] | BaseResponse
MAX_QUERY = 200


@bp.get("/appointments/new")
def new_appointment() -> Page:
    patient_id = form_number(request.args.get("patient"))
    if patient_id is None:
        query = request.args.get("q", "")[:MAX_QUERY]
        found = find_patients(runtime().store, current_login(), query) if query.strip() else None
        return render_template("therapist/appointment_patient.html", query=query, found=found)
    patient = _patient(patient_id, "book")
    return _booking_form(patient, request.args.get("service"), parse_day(request.args.get("day")))


@bp.post("/appointments/new")
def create_appointment() -> Page:
    rt = runtime()
    login, form = current_login(), request.form
    patient_id = form_number(form.get("patient"))
    uid = form.get("uid", "")
    if patient_id is None or not _is_uuid(uid):
        abort(400)
    errors: dict[str, str] = {}
    try:
        service = offered_service(rt.config, form.get("service", ""), login)
    except UnknownChoiceError:
        errors["service"] = UNKNOWN_SERVICE
    chosen = chosen_time(form, rt.config.practice.tz, rt.clock())
    errors.update(chosen.errors)
    day = form_day(form, rt.config.practice.tz)
    if errors or chosen.start is None:
        patient = _patient(patient_id, "book")
        return _booking_form(patient, form.get("service"), day, errors, uid), 422
    booking = ManualBooking(login, patient_id, service.id, chosen.start, uid, confirmations(form))
    try:
        appointment = book_manually(rt.store, rt.config, booking, rt.clock(), current_language())
    except NoPatientError:
        abort(404)
    except InThePastError:
        patient = _patient(patient_id, "book")
        return _booking_form(patient, service.id, day, {"time": IN_THE_PAST}, uid), 422
    except UnconfirmedTimeError as exc:
        fields = [("patient", str(patient_id)), ("service", service.id), ("uid", uid)]
        back = url_for("therapist.new_appointment", patient=patient_id, service=service.id)
        return confirmation_page(exc.check, url_for("therapist.create_appointment"), fields, back)
    except ChangedError:
        flash(_("This form was already used. Please start again."), "error")
        return redirect(url_for("therapist.new_appointment", patient=patient_id), 303)
    flash(_("The appointment is booked."), "info")
    return redirect(url_for("therapist.appointment", uid=appointment.uid), 303)


def _booking_form(
    patient: Patient,
    service_id: str | None,
    day: date | None,
    errors: dict[str, str] | None = None,
    uid: str | None = None,
) -> str:
    rt = runtime()
    config, login, now = rt.config, current_login(), rt.clock()
    services = therapist_services(config, login)
    service = next((s for s in services if s.id == service_id), services[0] if services else None)
    day = day or now.astimezone(config.practice.tz).date()
    starts: list[datetime] = []
    if service is not None:
        with rt.store.read() as tx:
            starts = free_starts(tx, config, service, login, day, now)
    return render_template(
        "therapist/appointment_new.html",
        patient=patient,
        services=services,
        service=service,
        day=day,
        days=nearby_days(day),
        starts=starts,
        uid=uid or str(uuid.uuid4()),
        values=request.form if request.method == "POST" else {},
        errors=field_messages(errors or {}),
    )


def _patient(patient_id: int, purpose: str) -> Patient:
    try:
        return visible_patient(runtime().store, current_login(), patient_id, purpose)
    except NoPatientError:
        abort(404)


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False

"""The therapist's patients: list and search, create, look at one, edit one.

Only the patients the therapist may see (`caldav_bridge.patient_records`); any other id is a
404. Every read and change is audited by the use-cases. An edit sent from a form opened
before another change is refused with the current record and what the therapist typed.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import _
from booking_web.patient_messages import message_rows
from booking_web.therapist.auth import current_login
from booking_web.therapist.blueprint import bp
from booking_web.therapist.messages import field_messages
from caldav_bridge.appointment_records import has_started
from caldav_bridge.patient_records import (
    NoPatientError,
    PatientChangedError,
    changed_fields,
    check_patient_form,
    create_patient,
    find_patients,
    open_patient,
    record_version,
    update_patient,
    visible_patient,
)
from caldav_bridge.store import Patient

Page = str | tuple[str, int] | BaseResponse
THEN_BOOK = "book"
MAX_QUERY = 200


@bp.get("/patients")
def patients() -> str:
    query = request.args.get("q", "")[:MAX_QUERY]
    found = find_patients(runtime().store, current_login(), query)
    return render_template("therapist/patients.html", query=query, found=found)


@bp.get("/patients/new")
def new_patient() -> str:
    language = runtime().config.practice.default_language
    values = {"language": language, "sms_enabled": "on", "then": request.args.get("then", "")}
    return render_template(
        "therapist/patient_form.html",
        patient=None,
        values=values,
        errors={},
        field_labels=field_labels(),
    )


@bp.post("/patients/new")
def create_patient_post() -> Page:
    rt = runtime()
    checked = check_patient_form(request.form, rt.config.practice.languages)
    if checked.changes is None:
        page = render_template(
            "therapist/patient_form.html",
            patient=None,
            values=request.form,
            errors=field_messages(checked.errors),
            field_labels=field_labels(),
        )
        return page, 422
    patient = create_patient(rt.store, current_login(), checked.changes)
    flash(_("The patient has been added."), "info")
    if request.form.get("then") == THEN_BOOK:
        return redirect(url_for("therapist.new_appointment", patient=patient.id), 303)
    return redirect(url_for("therapist.patient", patient_id=patient.id), 303)


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int) -> str:
    rt = runtime()
    try:
        record = open_patient(rt.store, current_login(), patient_id)
    except NoPatientError:
        abort(404)
    now = rt.clock()
    upcoming = [a for a in record.appointments if not has_started(a, now)]
    past = [a for a in record.appointments if has_started(a, now)]
    return render_template(
        "therapist/patient.html",
        patient=record.patient,
        upcoming=list(reversed(upcoming)),  # soonest first
        past=past,  # latest first
        services=rt.config.services,
        deliveries=message_rows(record.messages, masked=True),
    )


@bp.get("/patients/<int:patient_id>/edit")
def edit_patient(patient_id: int) -> str:
    try:
        found = visible_patient(runtime().store, current_login(), patient_id, "open_form")
    except NoPatientError:
        abort(404)
    return _edit_page(found, form_values(found), {})


@bp.post("/patients/<int:patient_id>/edit")
def update_patient_post(patient_id: int) -> Page:
    rt = runtime()
    checked = check_patient_form(request.form, rt.config.practice.languages)
    if checked.changes is None:
        try:
            found = visible_patient(rt.store, current_login(), patient_id, "open_form")
        except NoPatientError:
            abort(404)
        return _edit_page(found, request.form, field_messages(checked.errors)), 422
    try:
        update_patient(
            rt.store, current_login(), patient_id, request.form.get("version", ""), checked.changes
        )
    except NoPatientError:
        abort(404)
    except PatientChangedError as exc:
        # The current record in the form, and what the therapist typed that differs from it.
        typed = {name: request.form.get(name, "").strip() for name in _FIELDS}
        differing = changed_fields(exc.current, checked.changes)
        page = _edit_page(
            exc.current, form_values(exc.current), {}, conflict=typed, differing=differing
        )
        return page, 409
    flash(_("The patient's details have been saved."), "info")
    return redirect(url_for("therapist.patient", patient_id=patient_id), 303)


_FIELDS = ("first_name", "last_name", "email", "phone", "language", "sms_enabled", "notes")


def form_values(patient: Patient) -> dict[str, str]:
    """A patient's record as the edit form's fields."""
    return {
        "first_name": patient.first_name,
        "last_name": patient.last_name,
        "email": patient.email or "",
        "phone": patient.phone or "",
        "language": patient.language,
        "sms_enabled": "on" if patient.sms_enabled else "",
        "notes": patient.notes,
    }


def _edit_page(
    patient: Patient,
    values: Mapping[str, str],
    errors: dict[str, str],
    *,
    conflict: dict[str, str] | None = None,
    differing: list[str] | None = None,
) -> str:
    return render_template(
        "therapist/patient_form.html",
        patient=patient,
        version=record_version(patient),
        values=values,
        errors=errors,
        conflict=conflict,
        differing=differing or [],
        field_labels=field_labels(),
    )


def field_labels() -> dict[str, str]:
    return {
        "first_name": _("First name"),
        "last_name": _("Last name"),
        "email": _("Email address"),
        "phone": _("Mobile phone"),
        "language": _("Language of our messages"),
        "sms_enabled": _("SMS reminders"),
        "notes": _("Notes"),
    }

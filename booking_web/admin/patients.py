"""The practice's patients: list and search (a page at a time), one patient's record with
their appointments with every therapist and the messages sent to them, and the patient's data
as files (JSON and iCalendar) for them. Every list, search, read and download is audited by
the use-cases (`caldav_bridge.practice_patients`, `caldav_bridge.patient_export`)."""

from __future__ import annotations

from flask import Response, abort, render_template, request

from booking_web.admin.blueprint import bp, current_admin
from booking_web.context import runtime
from booking_web.i18n import NAMES
from booking_web.patient_messages import message_rows
from caldav_bridge.patient_export import (
    ICS,
    JSON,
    PatientData,
    export_calendar,
    export_json,
    gather_patient_data,
)
from caldav_bridge.patient_records import NoPatientError
from caldav_bridge.practice_patients import find_practice_patients, open_practice_patient

MAX_QUERY = 200
MAX_PAGE = 10**6


@bp.get("/patients")
def patients() -> str:
    query = request.args.get("q", "")[:MAX_QUERY]
    page = request.args.get("page", 1, type=int) or 1
    found = find_practice_patients(runtime().store, current_admin(), query, min(page, MAX_PAGE))
    return render_template("admin/patients.html", query=query, found=found)


@bp.get("/patients/<int:patient_id>")
def patient(patient_id: int) -> str:
    rt = runtime()
    try:
        record = open_practice_patient(rt.store, current_admin(), patient_id)
    except NoPatientError:
        abort(404)
    return render_template(
        "admin/patient.html",
        record=record,
        patient=record.patient,
        services=rt.config.services,
        therapists=rt.config.therapists,
        deliveries=message_rows(record.messages, masked=False),
        now=rt.clock(),
        language_names=NAMES,
    )


@bp.get("/patients/<int:patient_id>/data.json")
def patient_data_json(patient_id: int) -> Response:
    rt = runtime()
    data = _gathered(patient_id, JSON)
    body = export_json(data, rt.config, rt.clock())
    return _download(body.encode(), "application/json", f"patient-{patient_id}.json")


@bp.get("/patients/<int:patient_id>/appointments.ics")
def patient_data_ics(patient_id: int) -> Response:
    rt = runtime()
    body = export_calendar(_gathered(patient_id, ICS), rt.config, rt.clock())
    return _download(body, "text/calendar", f"patient-{patient_id}-appointments.ics")


def _gathered(patient_id: int, form: str) -> PatientData:
    try:
        return gather_patient_data(runtime().store, current_admin(), patient_id, form)
    except NoPatientError:
        abort(404)


def _download(body: bytes, mimetype: str, filename: str) -> Response:
    """A file to save; never kept by a cache (``no-store``, as every page of the panel)."""
    disposition = {"Content-Disposition": f'attachment; filename="{filename}"'}
    return Response(body, mimetype=mimetype, headers=disposition)

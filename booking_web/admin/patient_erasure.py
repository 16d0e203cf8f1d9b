"""Erasing a patient: a page that says exactly what will be erased (or which appointments must
be cancelled first), and the POST that does it (`caldav_bridge.patient_erasure`).

The form carries the version of what the page showed: if the record or the appointments
changed meanwhile, nothing is erased and the page shows the new state to confirm again.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin.blueprint import bp, current_admin
from booking_web.context import runtime
from booking_web.i18n import _
from caldav_bridge.patient_erasure import (
    ErasurePlan,
    PlanChangedError,
    UpcomingAppointmentsError,
    erase_patient,
    erasure_plan,
)
from caldav_bridge.patient_records import NoPatientError

Page = str | tuple[str, int] | BaseResponse


@bp.get("/patients/<int:patient_id>/erase")
def erase_form(patient_id: int) -> str:
    rt = runtime()
    try:
        plan = erasure_plan(rt.store, current_admin(), patient_id, rt.clock())
    except NoPatientError:
        abort(404)
    return _page(plan)


@bp.post("/patients/<int:patient_id>/erase")
def erase(patient_id: int) -> Page:
    rt = runtime()
    if request.form.get("confirm") != "yes":
        try:
            plan = erasure_plan(rt.store, current_admin(), patient_id, rt.clock())
        except NoPatientError:
            abort(404)
        errors = {"confirm": _("Please tick the box to confirm the erasure.")}
        return _page(plan, errors=errors), 422
    version = request.form.get("version", "")[:64]
    try:
        erase_patient(rt.store, rt.config, current_admin(), patient_id, version, rt.clock())
    except NoPatientError:
        abort(404)
    except UpcomingAppointmentsError as exc:
        return _page(exc.plan), 409
    except PlanChangedError as exc:
        return _page(exc.plan, changed=True), 409
    flash(_("The patient's data has been erased."), "success")
    return redirect(url_for("admin.patients"), 303)


def _page(plan: ErasurePlan, *, errors: dict[str, str] | None = None, changed: bool = False) -> str:
    config = runtime().config
    return render_template(
        "admin/patient_erase.html",
        plan=plan,
        patient=plan.patient,
        errors=errors or {},
        changed=changed,
        services=config.services,
        therapists=config.therapists,
    )

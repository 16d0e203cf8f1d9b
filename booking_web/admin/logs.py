"""The audit log (newest first) and the delivery log of every message (failed and uncertain
ones first, each with a button to send it again)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin.blueprint import bp, current_admin
from booking_web.context import runtime
from booking_web.i18n import _
from booking_web.patient_messages import message_rows
from caldav_bridge.store.outbox import FAILED, UNCERTAIN

AUDIT_ENTRIES = 500
REQUEUEABLE = frozenset({FAILED, UNCERTAIN})


@bp.get("/audit")
def audit() -> str:
    with runtime().store.read() as tx:
        entries = tx.audit_entries(AUDIT_ENTRIES)
    return render_template("admin/audit.html", entries=entries)


@bp.get("/deliveries")
def deliveries() -> str:
    """Recipients are patients' contact data: reading them is audited."""
    with runtime().store.write() as tx:
        entries = tx.delivery_log()
        tx.audit(current_admin(), "deliveries.read", "outbox")
    # Each entry with its labels in the admin's language; the raw error stays for the admin.
    shown = list(zip(entries, message_rows(entries, masked=False), strict=True))
    return render_template("admin/deliveries.html", entries=shown, requeueable=REQUEUEABLE)


@bp.post("/deliveries/<int:entry_id>/requeue")
def requeue(entry_id: int) -> BaseResponse:
    rt = runtime()
    with rt.store.write() as tx:
        if tx.outbox_entry(entry_id) is None:
            abort(404)
        done = tx.requeue(entry_id, rt.clock())
        if done:
            tx.audit(current_admin(), "outbox.requeue", f"outbox:{entry_id}")
    if done:
        flash(_("The message will be sent again."), "success")
    else:
        flash(_("This message is neither failed nor uncertain any more: nothing to do."), "info")
    return redirect(url_for("admin.deliveries"), 303)

"""The patient's manage link: /manage/<token> shows one appointment; cancel and reschedule.

GETs never change anything (mail scanners follow links). Cancel and reschedule are POSTs
(CSRF-protected, rate-limited) allowed until the cut-off before the start. The token names the
appointment and its version: after any change the old link says so, and the newer email (or
the page the patient is redirected to) has the current one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import _, prefer_language
from booking_web.rate_limit import count_booking_attempt, too_many_attempts
from booking_web.security import content_security_policy, private_page
from booking_web.summary import Summary, patient_calendar, summary_of
from booking_web.week import parse_day, parse_instant, week_view
from caldav_bridge import manage_links as links
from caldav_bridge.availability import SlotQueryError, slot_at
from caldav_bridge.booking import (
    ChangedError,
    CutoffPassedError,
    NoAppointmentError,
    SlotTakenError,
    cancel,
    reschedule,
)
from caldav_bridge.config import Config
from caldav_bridge.manage_links import InvalidLinkError, manage_token, read_manage_token
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Appointment
from caldav_bridge.store.appointments import CANCELLED

bp = Blueprint("manage", __name__, url_prefix="/manage")
bp.after_request(private_page)
bp.after_request(content_security_policy)

OPEN, CUTOFF, PAST, CANCELLED_STATE = "open", "cutoff", "past", "cancelled"


def manage_url(rt: Runtime, appointment: Appointment) -> str:
    """The absolute manage link of ``appointment`` at its current version."""
    public_url = rt.config.server.public_url
    return links.manage_url(public_url, rt.secret_key, appointment.uid, appointment.version)


def link_max_age(config: Config) -> timedelta:
    return links.manage_link_max_age(config.booking.horizon)


class LinkNoticeError(Exception):
    """The link no longer leads to a changeable appointment: ``kind`` says why."""

    def __init__(self, kind: str, status: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = status


@dataclass(frozen=True)
class Linked:
    token: str
    appointment: Appointment
    summary: Summary
    state: str  # OPEN, CUTOFF, PAST or CANCELLED_STATE


def open_link(token: str) -> Linked:
    """The appointment ``token`` leads to, or raise (404 for a forged link)."""
    rt = runtime()
    config = rt.config
    try:
        target = read_manage_token(rt.secret_key, token, link_max_age(config))
    except InvalidLinkError as exc:
        if exc.expired:
            raise LinkNoticeError("expired", 410) from exc
        abort(404)
    with rt.store.read() as tx:
        appointment = tx.appointment(target.uid)
        patient = (
            tx.patient(appointment.patient_id) if appointment and appointment.patient_id else None
        )
    if appointment is None:
        abort(404)
    if patient is not None:
        prefer_language(patient.language)
    if appointment.status != CANCELLED and appointment.version != target.version:
        raise LinkNoticeError("changed", 410)
    summary = summary_of(config, appointment, patient)
    return Linked(token, appointment, summary, _state(config, appointment, rt.clock()))


def _state(config: Config, appointment: Appointment, now: datetime) -> str:
    if appointment.status == CANCELLED:
        return CANCELLED_STATE
    if now >= appointment.start_at:
        return PAST
    if now > appointment.start_at - config.booking.patient_change_cutoff:
        return CUTOFF
    return OPEN


def cutoff_hours(config: Config) -> int:
    return int(config.booking.patient_change_cutoff.total_seconds() // 3600)


@bp.app_errorhandler(LinkNoticeError)
def link_notice(exc: LinkNoticeError) -> tuple[str, int]:
    return render_template("manage/notice.html", kind=exc.kind), exc.status


@bp.get("/<token>")
def show(token: str) -> str:
    linked = open_link(token)
    return render_template(
        "manage/show.html", linked=linked, cutoff_hours=cutoff_hours(runtime().config)
    )


@bp.get("/<token>/calendar.ics")
def calendar(token: str) -> Response:
    linked = open_link(token)
    if linked.state == CANCELLED_STATE:
        abort(404)
    rt = runtime()
    body = patient_calendar(rt.config, linked.appointment, linked.summary, rt.clock())
    filename = f"appointment-{linked.summary.start.date().isoformat()}.ics"
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<token>/cancel")
def cancel_form(token: str) -> str | BaseResponse:
    linked = open_link(token)
    if linked.state != OPEN:
        return redirect(url_for("manage.show", token=token))
    return render_template("manage/cancel.html", linked=linked)


@bp.post("/<token>/cancel")
def cancel_post(token: str) -> str | BaseResponse | tuple[str, int, dict[str, str]]:
    rt = runtime()
    verdict = count_booking_attempt(rt)
    if not verdict.allowed:
        return too_many_attempts(verdict)
    linked = open_link(token)
    if linked.state != OPEN:  # cancelled already (a replay), past the cut-off, or past
        return redirect(url_for("manage.show", token=token), 303)
    try:
        cancel(
            rt.store,
            rt.config,
            linked.appointment.uid,
            linked.appointment.version,
            rt.clock(),
            "patient",
            enforce_cutoff=True,
        )
    except ChangedError as exc:
        raise LinkNoticeError("changed", 410) from exc
    except NoAppointmentError:
        abort(404)
    except CutoffPassedError:
        pass  # the page now explains the cut-off
    return redirect(url_for("manage.show", token=token), 303)


@bp.get("/<token>/reschedule")
def reschedule_week(token: str) -> str | BaseResponse:
    linked = open_link(token)
    if linked.state != OPEN:
        return redirect(url_for("manage.show", token=token))
    rt = runtime()
    appointment = linked.appointment
    try:
        with rt.store.read() as tx:
            week = week_view(
                tx,
                rt.config,
                appointment.service,
                appointment.therapist,
                rt.clock(),
                week=parse_day(request.args.get("week")),
                day=parse_day(request.args.get("day")),
                moving=appointment.uid,  # its own time is free for the move...
                moving_from=appointment.start_at,  # ...but is not itself a new time
            )
    except SlotQueryError:
        return render_template(
            "manage/show.html", linked=linked, unmovable=True, cutoff_hours=cutoff_hours(rt.config)
        )
    return render_template(
        "manage/reschedule.html",
        linked=linked,
        week=week,
        week_url=lambda monday: url_for(
            "manage.reschedule_week", token=token, week=monday.isoformat()
        ),
        day_url=lambda day: url_for("manage.reschedule_week", token=token, day=day.isoformat()),
        slot_action=url_for("manage.reschedule_confirm", token=token),
        slot_hidden=[],
    )


@bp.get("/<token>/reschedule/confirm")
def reschedule_confirm(token: str) -> str | BaseResponse:
    linked = open_link(token)
    if linked.state != OPEN:
        return redirect(url_for("manage.show", token=token))
    start = _new_start(linked)
    if start is None:
        return _slot_gone(token, request.args.get("start", ""))
    return render_template("manage/reschedule_confirm.html", linked=linked, start=start)


@bp.post("/<token>/reschedule")
def reschedule_post(token: str) -> str | BaseResponse | tuple[str, int, dict[str, str]]:
    rt = runtime()
    verdict = count_booking_attempt(rt)
    if not verdict.allowed:
        return too_many_attempts(verdict)
    start = parse_instant(request.form.get("start", ""))
    try:
        linked = open_link(token)
    except LinkNoticeError as exc:
        replayed = _replayed_move(token, start) if exc.kind == "changed" else None
        if replayed is None:
            raise
        return redirect(url_for("manage.show", token=replayed), 303)
    if linked.state != OPEN:
        return redirect(url_for("manage.show", token=token), 303)
    if start is None:
        return _slot_gone(token, "")
    try:
        moved = reschedule(
            rt.store,
            rt.config,
            linked.appointment.uid,
            linked.appointment.version,
            start,
            rt.clock(),
            "patient",
            enforce_cutoff=True,
        )
    except SlotTakenError:
        return _slot_gone(token, start.isoformat())
    except ChangedError as exc:
        raise LinkNoticeError("changed", 410) from exc
    except NoAppointmentError:
        abort(404)
    except CutoffPassedError:
        return redirect(url_for("manage.show", token=token), 303)
    flash(
        _(
            "Your appointment has been moved. Links in earlier emails no longer work; "
            "you will receive the new one by email."
        ),
        "info",
    )
    new_token = manage_token(rt.secret_key, moved.uid, moved.version)
    return redirect(url_for("manage.show", token=new_token), 303)


def _replayed_move(token: str, start: datetime | None) -> str | None:
    """The current link if this POST repeats the move that retired ``token`` (a double click:
    the appointment is now at ``start``, one version later), else None."""
    rt = runtime()
    try:
        target = read_manage_token(rt.secret_key, token, link_max_age(rt.config))
    except InvalidLinkError:
        return None
    with rt.store.read() as tx:
        current = tx.appointment(target.uid)
    if (
        start is None
        or current is None
        or current.status == CANCELLED
        or current.version != target.version + 1
        or current.start_at != start
    ):
        return None
    return manage_token(rt.secret_key, current.uid, current.version)


def _new_start(linked: Linked) -> datetime | None:
    """The requested new start if the engine offers it now (the appointment's own time freed)."""
    start = parse_instant(request.args.get("start", ""))
    if start is None:
        return None
    rt = runtime()
    config = rt.config
    appointment = linked.appointment
    service = config.services.get(appointment.service)
    if service is None or appointment.therapist not in config.therapists:
        return None
    if start == appointment.start_at:
        return None  # not a move
    with rt.store.read() as tx:
        slot = slot_at(
            tx, config, service, appointment.therapist, start, rt.clock(), moving=appointment.uid
        )
    return slot.start if slot is not None else None


def _slot_gone(token: str, start: str) -> BaseResponse:
    flash(_("This time is no longer available. Please choose another one."), "error")
    day = parse_instant(start)
    tz = runtime().config.practice.tz
    args: dict[str, Any] = {"day": day.astimezone(tz).date().isoformat()} if day else {}
    return redirect(url_for("manage.reschedule_week", token=token, **args), 303)

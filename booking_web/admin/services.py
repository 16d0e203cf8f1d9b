"""Services ("prestations"): the list, a new service, editing one, deactivating and
reactivating it (the ``active`` box of its form), saved into ``practice.toml``.

A service is never deleted from the panel: deactivated, it is no longer offered for booking,
and its appointments stay as they are. The forms show the file as it is now (a hand edit
appears at once) and carry its version; an edit writes only the keys that changed.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits, service_form
from booking_web.admin.blueprint import bp
from booking_web.admin.service_form import ServiceForm
from booking_web.i18n import NAMES, _
from caldav_bridge.config_writer import ConfigSnapshot, add_table

Page = str | tuple[str, int] | BaseResponse
STATUS = {config_edits.Saved.CONFLICT: 409, config_edits.Saved.READ_ONLY: 403}


@bp.get("/services")
def services() -> str:
    config = config_edits.shown_config(config_edits.current())
    return render_template(
        "admin/services.html", services=list(config.services.values()), config=config
    )


@bp.get("/services/<sid>")
def service(sid: str) -> str:
    shot = config_edits.current()
    config = config_edits.shown_config(shot)
    form = service_form.from_file(_section(shot, sid), config.practice.languages)
    return _page(form, shot, sid=sid)


@bp.post("/services/<sid>")
def service_post(sid: str) -> Page:
    shot = config_edits.current()
    config = config_edits.shown_config(shot)
    before = service_form.from_file(_section(shot, sid), config.practice.languages)
    form = service_form.parse(request.form, config.practice.languages, list(config.therapists))
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if form.errors:
        return _page(form, shot, sid=sid, version=version), 422
    keys = service_form.changes(before, form)

    def edit(document: tomlkit.TOMLDocument) -> None:
        service_form.apply(document, sid, form, keys)

    result = config_edits.save(version, edit, "settings.service", sid, keys)
    if result.ok:
        flash(_("The service is saved."), "success")
        return redirect(url_for("admin.service", sid=sid), 303)
    return _refused(result, form, shot, version, sid=sid, theirs=_theirs(before, form))


@bp.get("/new-service")
def new_service() -> str:
    shot = config_edits.current()
    form = ServiceForm({"therapists": [], "active": True}, {"availability": "fixed"})
    return _page(form, shot)


@bp.post("/new-service")
def new_service_post() -> Page:
    shot = config_edits.current()
    config = config_edits.shown_config(shot)
    form = service_form.parse(request.form, config.practice.languages, list(config.therapists))
    existing = config_edits.file_values(shot).get("services", {})
    sid = service_form.check_new_id(form, list(existing))
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if form.errors:
        return _page(form, shot, version=version), 422
    table = service_form.new_table(form)

    def edit(document: tomlkit.TOMLDocument) -> None:
        add_table(document, "services", sid, table)

    result = config_edits.save(version, edit, "service.create", sid, list(table.keys()))
    if result.ok:
        flash(_("The service is created."), "success")
        return redirect(url_for("admin.service", sid=sid), 303)
    return _refused(result, form, shot, version, sid=None, theirs={})


def _refused(
    result: config_edits.SaveResult,
    form: ServiceForm,
    shot: ConfigSnapshot,
    version: str,
    *,
    sid: str | None,
    theirs: dict[str, Any],
) -> tuple[str, int]:
    """The form again, with what prevented the save (a conflict offers the file's values)."""
    if result.outcome is config_edits.Saved.CONFLICT:
        page = _page(form, shot, sid=sid, problem=result.problem, theirs=theirs)
    else:
        page = _page(form, shot, sid=sid, problem=result.problem, version=version)
    return page, STATUS.get(result.outcome, 422)


def _theirs(before: ServiceForm, form: ServiceForm) -> dict[str, Any]:
    """The file's values that differ from the admin's entries, by field."""
    theirs: dict[str, Any] = {
        name: text for name, text in before.texts.items() if text != form.texts.get(name, "")
    }
    if set(before.values["therapists"]) != set(form.values["therapists"]):
        theirs["therapists"] = before.values["therapists"]
    return theirs


def _section(shot: ConfigSnapshot, sid: str) -> dict[str, Any]:
    found = config_edits.file_table(shot, "services", sid)
    if found is None:
        abort(404)
    return found


def _page(
    form: ServiceForm,
    shot: ConfigSnapshot,
    *,
    sid: str | None = None,
    problem: str = "",
    theirs: dict[str, Any] | None = None,
    version: str | None = None,
) -> str:
    config = config_edits.shown_config(shot)
    return render_template(
        "admin/service.html",
        sid=sid,
        form=form,
        errors=form.errors,
        theirs=theirs or {},
        version=shot.version if version is None else version,
        problem=problem,
        read_only=config_edits.read_only(),
        languages=[(code, NAMES[code]) for code in config.practice.languages],
        therapists=list(config.therapists.values()),
        defaults=config.booking.slots,
    )

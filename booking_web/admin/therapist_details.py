"""A new therapist, and a therapist's details (name, email, phone, language, calendar name
and colour), saved into ``[therapists.<login>]`` of ``practice.toml``.

Creating one writes their table into the file, then at once creates their login (without a
password: the therapist's page, where the admin lands next, sets it) and their CalDAV
principal and ``appointments`` calendar, so calendar apps work as soon as the password is
set. A change of email reaches the principal's address, and a change of calendar name or
colour the appointments calendar. Hours are set on the hours page.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits, therapist_form
from booking_web.admin.blueprint import bp, current_admin
from booking_web.admin.therapist_form import TherapistForm
from booking_web.context import runtime
from booking_web.i18n import NAMES, _
from caldav_bridge.config_writer import ConfigSnapshot, add_table
from caldav_bridge.provisioning import provision_therapist, update_calendar

Page = str | tuple[str, int] | BaseResponse
STATUS = {config_edits.Saved.CONFLICT: 409, config_edits.Saved.READ_ONLY: 403}
CALENDAR_KEYS = frozenset({"calendar_name", "color"})


@bp.get("/new-therapist")
def new_therapist() -> str:
    shot = config_edits.current()
    form = therapist_form.blank(config_edits.shown_config(shot).practice.default_language)
    return _page(form, shot)


@bp.post("/new-therapist")
def new_therapist_post() -> Page:
    shot = config_edits.current()
    form = therapist_form.parse(request.form, config_edits.shown_config(shot).practice.languages)
    in_file = config_edits.file_values(shot).get("therapists", {})
    login = therapist_form.check_new_login(form, lambda name: name in in_file or _has_login(name))
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if form.errors:
        return _page(form, shot, version=version), 422
    table = therapist_form.new_table(form)

    def edit(document: tomlkit.TOMLDocument) -> None:
        add_table(document, "therapists", login, table)

    result = config_edits.save(version, edit, "therapist.create", login, list(table.keys()))
    if not result.ok:
        return _refused(result, form, shot, version, login=None, theirs={})
    assert result.config is not None
    provision_therapist(runtime().store, result.config.therapists[login], current_admin())
    flash(
        _(
            "The therapist is created, with their login and calendar. Set their password "
            "below, then their hours."
        ),
        "success",
    )
    return redirect(url_for("admin.therapist", login=login), 303)


@bp.get("/therapists/<login>/details")
def therapist_details(login: str) -> str:
    shot = config_edits.current()
    form = therapist_form.from_file(
        _section(shot, login), config_edits.shown_config(shot).practice.default_language
    )
    return _page(form, shot, login=login)


@bp.post("/therapists/<login>/details")
def therapist_details_post(login: str) -> Page:
    shot = config_edits.current()
    config = config_edits.shown_config(shot)
    before = therapist_form.from_file(_section(shot, login), config.practice.default_language)
    form = therapist_form.parse(request.form, config.practice.languages)
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if form.errors:
        return _page(form, shot, login=login, version=version), 422
    keys = therapist_form.changes(before, form)

    def edit(document: tomlkit.TOMLDocument) -> None:
        therapist_form.apply(document, login, form, keys)

    result = config_edits.save(version, edit, "settings.therapist", login, keys)
    if not result.ok:
        theirs = {key: before.values[key] for key in keys}
        return _refused(result, form, shot, version, login=login, theirs=theirs)
    assert result.config is not None
    therapist = result.config.therapists[login]
    provision_therapist(runtime().store, therapist, current_admin())  # the principal's email
    if CALENDAR_KEYS.intersection(keys):
        update_calendar(runtime().store, therapist)
    flash(_("The therapist's details are saved."), "success")
    return redirect(url_for("admin.therapist_details", login=login), 303)


def _refused(
    result: config_edits.SaveResult,
    form: TherapistForm,
    shot: ConfigSnapshot,
    version: str,
    *,
    login: str | None,
    theirs: dict[str, Any],
) -> tuple[str, int]:
    """The form again, with what prevented the save (a conflict offers the file's values)."""
    if result.outcome is config_edits.Saved.CONFLICT:
        page = _page(form, shot, login=login, problem=result.problem, theirs=theirs)
    else:
        page = _page(form, shot, login=login, problem=result.problem, version=version)
    return page, STATUS.get(result.outcome, 422)


def _has_login(login: str) -> bool:
    """True if the store has ``login`` (a therapist removed from the file keeps theirs: a new
    therapist must not inherit their calendar)."""
    with runtime().store.read() as tx:
        return tx.user(login) is not None


def _section(shot: ConfigSnapshot, login: str) -> dict[str, Any]:
    found = config_edits.file_table(shot, "therapists", login)
    if found is None:
        abort(404)
    return found


def _page(
    form: TherapistForm,
    shot: ConfigSnapshot,
    *,
    login: str | None = None,
    problem: str = "",
    theirs: dict[str, Any] | None = None,
    version: str | None = None,
) -> str:
    config = config_edits.shown_config(shot)
    return render_template(
        "admin/therapist_details.html",
        login=login,
        therapist=config.therapists.get(login) if login else None,
        form=form,
        errors=form.errors,
        theirs=theirs or {},
        version=shot.version if version is None else version,
        problem=problem,
        read_only=config_edits.read_only(),
        therapist_languages=[(code, NAMES[code]) for code in config.practice.languages],
    )

"""Therapists' logins: set or reset a password (CalDAV uses it from the next request),
deactivate and reactivate.

A deactivation is refused while the therapist has confirmed appointments that have not ended
(they must be reassigned or cancelled first; the page lists them). It is checked and done in
one write transaction holding the therapist's lock, so no booking slips in between. It
deactivates the login in the store (web and CalDAV refuse it at once) and sets ``active =
false`` in ``practice.toml`` (the booking pages stop offering the therapist).
"""

from __future__ import annotations

import tomlkit
from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits
from booking_web.admin.blueprint import bp, current_admin
from booking_web.context import runtime
from booking_web.i18n import _
from booking_web.therapist.account import password_problem
from caldav_bridge.accounts import set_password
from caldav_bridge.config import TherapistConfig
from caldav_bridge.config_writer import remove_key, set_value
from caldav_bridge.passwords import MAX_LENGTH, generate_password
from caldav_bridge.store import Appointment, User

Page = str | tuple[str, int] | BaseResponse


@bp.get("/therapists")
def therapists() -> str:
    rt = runtime()
    with rt.store.read() as tx:
        users = {user.login: user for user in tx.users()}
    rows = [(t, users.get(t.login)) for t in rt.config.therapists.values()]
    return render_template("admin/therapists.html", rows=rows)


@bp.get("/therapists/<login>")
def therapist(login: str) -> str:
    return _page(login)


@bp.post("/therapists/<login>/password")
def therapist_password(login: str) -> Page:
    _therapist(login)
    generated = request.form.get("generate") == "1"
    if generated:
        password = generate_password()
    else:
        password = request.form.get("password", "")[: MAX_LENGTH + 1]
        errors = {}
        problem = password_problem(password)
        if problem:
            errors["password"] = problem
        elif request.form.get("password2", "")[: MAX_LENGTH + 1] != password:
            errors["password2"] = _("The two passwords are not the same.")
        if errors:
            return _page(login, errors=errors), 422
    set_password(runtime().store, login, password, current_admin())
    if generated:
        return _page(login, new_password=password)
    flash(_("The password is set. It applies to calendar apps at once."), "success")
    return redirect(url_for("admin.therapist", login=login), 303)


@bp.post("/therapists/<login>/deactivate")
def therapist_deactivate(login: str) -> Page:
    _therapist(login)
    rt = runtime()
    with rt.store.write(login) as tx:
        upcoming = tx.future_appointments(login, rt.clock())
        if not upcoming:
            tx.set_active(login, False)
            tx.audit(current_admin(), "therapist.deactivate", login)
    if upcoming:
        return _page(login, upcoming=upcoming), 409
    _set_active_in_file(login, active=False)
    flash(_("The therapist is deactivated: their login no longer works."), "success")
    return redirect(url_for("admin.therapist", login=login), 303)


@bp.post("/therapists/<login>/reactivate")
def therapist_reactivate(login: str) -> Page:
    _therapist(login)
    with runtime().store.write(login) as tx:
        tx.set_active(login, True)
        tx.audit(current_admin(), "therapist.reactivate", login)
    _set_active_in_file(login, active=True)
    flash(_("The therapist is active again."), "success")
    return redirect(url_for("admin.therapist", login=login), 303)


def _set_active_in_file(login: str, *, active: bool) -> None:
    """``active = false`` in the therapist's table (removed again on reactivation)."""
    shot = config_edits.current()
    section = config_edits.file_values(shot).get("therapists", {}).get(login, {})
    if section.get("active", True) == active:
        return

    def edit(document: tomlkit.TOMLDocument) -> None:
        if active:
            remove_key(document, ("therapists", login, "active"))
        else:
            set_value(document, ("therapists", login, "active"), False)

    result = config_edits.save(shot.version, edit, "settings.therapist", login, ["active"])
    if not result.ok:
        flash(
            _(
                "The login was changed, but practice.toml was not (%(problem)s): set "
                "active = %(value)s for this therapist by hand."
            )
            % {"problem": result.problem, "value": "true" if active else "false"},
            "error",
        )


def _therapist(login: str) -> tuple[TherapistConfig, User]:
    config = runtime().config
    with runtime().store.read() as tx:
        user = tx.user(login)
    if login not in config.therapists or user is None or user.role != "therapist":
        abort(404)
    return config.therapists[login], user


def _page(
    login: str,
    *,
    errors: dict[str, str] | None = None,
    new_password: str = "",
    upcoming: list[Appointment] | None = None,
) -> str:
    therapist_config, user = _therapist(login)
    return render_template(
        "admin/therapist.html",
        therapist=therapist_config,
        user=user,
        errors=errors or {},
        new_password=new_password,
        upcoming=upcoming or [],
        services=runtime().config.services,
    )

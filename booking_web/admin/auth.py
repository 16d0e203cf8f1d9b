"""Logging in and out of the admin panel, and the guard in front of every other page.

The session holds the login, a stamp of the stored password, the time of the login and of the
last request; the guard ends it after `IDLE_TIMEOUT` without a request, `MAX_SESSION` after
the login, when the password changed or the login was deactivated. Logging in starts a fresh
session (only the chosen language is kept), CSRF token included.

Failed attempts are counted by the therapist space's `Authenticator` (one per app for the
web): the admin password gets no extra tries by being tried on both login pages.
"""

from __future__ import annotations

import math

from flask import flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin.blueprint import bp
from booking_web.context import runtime
from booking_web.i18n import SESSION_KEY as LANGUAGE_KEY
from booking_web.i18n import _, ngettext
from booking_web.therapist.blueprint import authenticator
from caldav_bridge.admin_login import (
    IDLE_TIMEOUT,
    MAX_SESSION,
    AdminOutcome,
    admin_login,
    admin_session_user,
)

LOGIN = "admin"
STAMP = "admin_stamp"
SINCE = "admin_since"  # epoch seconds of the login
SEEN = "admin_seen"  # epoch seconds of the last request
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.login_post"})
MAX_FIELD = 256


@bp.before_request
def require_admin() -> BaseResponse | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    login = session.get(LOGIN)
    if not isinstance(login, str):
        return _to_login(expired=False)
    rt = runtime()
    now = rt.clock().timestamp()
    seen, since, stamp = session.get(SEEN), session.get(SINCE), session.get(STAMP)
    fresh = (
        isinstance(seen, float | int)
        and isinstance(since, float | int)
        and now - seen <= IDLE_TIMEOUT.total_seconds()
        and now - since <= MAX_SESSION.total_seconds()
    )
    user = (
        admin_session_user(rt.store, rt.secret_key, login, stamp)
        if fresh and isinstance(stamp, str)
        else None
    )
    if user is None:
        _end_session()
        return _to_login(expired=True)
    g.admin = login
    session[SEEN] = now
    return None


def _start_session(login: str, stamp: str) -> None:
    _end_session()
    now = runtime().clock().timestamp()
    session.update({LOGIN: login, STAMP: stamp, SINCE: now, SEEN: now})


def _end_session() -> None:
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language is not None:
        session[LANGUAGE_KEY] = language


def _to_login(*, expired: bool) -> BaseResponse:
    if expired:
        flash(_("Your session has ended. Please log in again."), "info")
    wanted = request.full_path.rstrip("?") if request.method == "GET" else ""
    return redirect(url_for("admin.login", next=wanted or None), 303)


def safe_next(target: str | None) -> str:
    """``target`` if it is a page of the panel, else its home (no open redirect)."""
    if (
        target
        and target.startswith("/admin/")
        and "//" not in target
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return url_for("admin.practice")


@bp.get("/login")
def login() -> str | BaseResponse:
    if isinstance(session.get(LOGIN), str):
        return redirect(safe_next(request.args.get("next")))
    values = {"next": request.args.get("next", "")}
    return render_template("admin/login.html", values=values, errors={}, problem="")


@bp.post("/login")
def login_post() -> BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = {name: request.form.get(name, "")[:MAX_FIELD] for name in ("login", "password")}
    values = {"login": form["login"].strip(), "next": request.form.get("next", "")}
    errors: dict[str, str] = {}
    if not values["login"]:
        errors["login"] = _("Please enter your login.")
    if not form["password"]:
        errors["password"] = _("Please enter your password.")
    if errors:
        return _login_page(values, errors, "", 422)
    rt = runtime()
    result = admin_login(
        authenticator(), rt.secret_key, values["login"], form["password"], request.remote_addr
    )
    if result.outcome is AdminOutcome.OK:
        _start_session(result.login, result.stamp)
        with rt.store.write() as tx:
            tx.audit(result.login, "admin.login", result.login)
        return redirect(safe_next(values["next"]), 303)
    if result.outcome is AdminOutcome.THROTTLED:
        page = _login_page(values, {}, _throttled_text(result.retry_after), 429)
        return page[0], 429, {"Retry-After": str(result.retry_after)}
    return _login_page(values, {}, _refusal_text(result.outcome), 422)


@bp.post("/logout")
def logout() -> BaseResponse:
    with runtime().store.write() as tx:
        tx.audit(g.admin, "admin.logout", g.admin)
    _end_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("admin.login"), 303)


@bp.get("/")
def home() -> BaseResponse:
    return redirect(url_for("admin.practice"))


def _refusal_text(outcome: AdminOutcome) -> str:
    if outcome is AdminOutcome.APP_PASSWORD:
        return _(
            "This is an app password: it works in calendar apps only. "
            "Please log in with your main password."
        )
    if outcome is AdminOutcome.NOT_ADMIN:
        return _("This panel is for the practice's admin. Therapists use the therapist space.")
    return _("The login or the password is not correct.")


def _throttled_text(retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many failed attempts. Please try again in %(num)d minute.",
        "Too many failed attempts. Please try again in %(num)d minutes.",
        minutes,
    ) % {"num": minutes}


def _login_page(
    values: dict[str, str], errors: dict[str, str], problem: str, status: int
) -> tuple[str, int]:
    page = render_template("admin/login.html", values=values, errors=errors, problem=problem)
    return page, status

"""Logging in and out of the therapist space, and the guard in front of every other page.

The session (Flask's signed cookie: HttpOnly, SameSite=Lax, Secure when the public URL is
https) holds the login, a stamp of the stored password, the time of the login and of the
last request. The guard ends it after `IDLE_TIMEOUT` without a request, `MAX_SESSION` after
the login, when the password changed elsewhere, or when the therapist was deactivated. Logging
in starts a fresh session (only the chosen language is kept), so nothing set before the login
survives it, CSRF token included.
"""

from __future__ import annotations

import math

from flask import flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import NAMES, _, ngettext, prefer_language
from booking_web.i18n import SESSION_KEY as LANGUAGE_KEY
from booking_web.therapist.blueprint import authenticator, bp
from caldav_bridge.config import ServiceConfig
from caldav_bridge.store import Appointment
from caldav_bridge.therapist_login import (
    IDLE_TIMEOUT,
    MAX_SESSION,
    Outcome,
    session_user,
    web_login,
)

LOGIN = "therapist"
STAMP = "therapist_stamp"
SINCE = "therapist_since"  # epoch seconds of the login
SEEN = "therapist_seen"  # epoch seconds of the last request
OPEN_ENDPOINTS = frozenset({"therapist.login", "therapist.login_post"})
MAX_FIELD = 256


def current_login() -> str:
    """The therapist of this request (the guard has checked the session)."""
    return str(g.therapist)


@bp.before_request
def require_login() -> BaseResponse | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    login = session.get(LOGIN)
    if not isinstance(login, str):
        return _to_login(expired=False)
    rt = runtime()
    now = rt.clock().timestamp()
    seen, since = session.get(SEEN), session.get(SINCE)
    fresh = (
        isinstance(seen, float | int)
        and isinstance(since, float | int)
        and now - seen <= IDLE_TIMEOUT.total_seconds()
        and now - since <= MAX_SESSION.total_seconds()
    )
    stamp = session.get(STAMP)
    user = (
        session_user(rt.store, rt.config, rt.secret_key, login, stamp)
        if fresh and isinstance(stamp, str)
        else None
    )
    if user is None:
        end_session()
        return _to_login(expired=True)
    g.therapist = login
    session[SEEN] = now
    prefer_language(rt.config.therapists[login].language)
    return None


def start_session(login: str, stamp: str) -> None:
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language is not None:
        session[LANGUAGE_KEY] = language
    now = runtime().clock().timestamp()
    session.update({LOGIN: login, STAMP: stamp, SINCE: now, SEEN: now})


def renew_stamp(stamp: str) -> None:
    """After this session changed the password: it stays open, the others end."""
    session[STAMP] = stamp


def end_session() -> None:
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language is not None:
        session[LANGUAGE_KEY] = language


def _to_login(*, expired: bool) -> BaseResponse:
    if expired:
        flash(_("Your session has ended. Please log in again."), "info")
    wanted = request.full_path.rstrip("?") if request.method == "GET" else ""
    return redirect(url_for("therapist.login", next=wanted or None), 303)


def safe_next(target: str | None) -> str:
    """``target`` if it is a page of the therapist space, else the agenda (no open redirect)."""
    if (
        target
        and target.startswith("/therapist/")
        and "//" not in target
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return url_for("therapist.agenda")


@bp.get("/login")
def login() -> str | BaseResponse:
    if isinstance(session.get(LOGIN), str):
        return redirect(safe_next(request.args.get("next")))
    return render_template(
        "therapist/login.html", values={"next": request.args.get("next", "")}, errors={}
    )


@bp.post("/login")
def login_post() -> BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = {name: request.form.get(name, "")[:MAX_FIELD] for name in ("login", "password")}
    errors: dict[str, str] = {}
    if not form["login"].strip():
        errors["login"] = _("Please enter your login.")
    if not form["password"]:
        errors["password"] = _("Please enter your password.")
    values = {"login": form["login"].strip(), "next": request.form.get("next", "")}
    if errors:
        return _login_page(values, errors, problem="", status=422)
    rt = runtime()
    result = web_login(
        authenticator(),
        rt.config,
        rt.secret_key,
        values["login"],
        form["password"],
        request.remote_addr,
    )
    if result.outcome is Outcome.OK:
        start_session(result.login, result.stamp)
        return redirect(safe_next(values["next"]), 303)
    if result.outcome is Outcome.THROTTLED:
        page = _login_page(values, {}, problem=throttled_text(result.retry_after), status=429)
        return page[0], 429, {"Retry-After": str(result.retry_after)}
    return _login_page(values, {}, problem=refusal_text(result.outcome), status=422)


@bp.post("/logout")
def logout() -> BaseResponse:
    end_session()
    flash(_("You have logged out."), "info")
    return redirect(url_for("therapist.login"), 303)


@bp.get("/")
def home() -> BaseResponse:
    return redirect(url_for("therapist.agenda"))


def refusal_text(outcome: Outcome) -> str:
    if outcome is Outcome.APP_PASSWORD:
        return _(
            "This is an app password: it works in calendar apps only. "
            "Please log in with your main password."
        )
    if outcome is Outcome.NOT_A_THERAPIST:
        return _("This space is for therapists. The admin account uses the admin panel.")
    if outcome is Outcome.DEACTIVATED:
        return _("This account is deactivated. Please contact the practice's admin.")
    return _("The login or the password is not correct.")


def throttled_text(retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many failed attempts. Please try again in %(num)d minute.",
        "Too many failed attempts. Please try again in %(num)d minutes.",
        minutes,
    ) % {"num": minutes}


def _login_page(
    values: dict[str, str], errors: dict[str, str], problem: str, status: int
) -> tuple[str, int]:
    page = render_template("therapist/login.html", values=values, errors=errors, problem=problem)
    return page, status


@bp.context_processor
def therapist_context() -> dict[str, object]:
    """``me``: the logged-in therapist's configuration (None on the login page);
    ``service_of(appointment)``: its service's configuration (None once removed)."""
    config = runtime().config
    login = g.get("therapist")

    def service_of(appointment: Appointment) -> ServiceConfig | None:
        return config.services.get(appointment.service)

    return {
        "me": config.therapists.get(login) if isinstance(login, str) else None,
        "service_of": service_of,
        "language_names": NAMES,
    }

"""Logging in and out of the therapist space, and the guard in front of every other page.

The session's rules are `booking_web.web_session`'s; the guard also ends it when the password
changed elsewhere or the therapist was deactivated (`caldav_bridge.therapist_login`).
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import NAMES, _, prefer_language
from booking_web.therapist.blueprint import authenticator, bp
from booking_web.web_session import (
    WebSession,
    app_password_text,
    login_form,
    login_page,
    throttled_page,
    wrong_credentials_text,
)
from caldav_bridge.config import ServiceConfig
from caldav_bridge.store import Appointment
from caldav_bridge.therapist_login import (
    IDLE_TIMEOUT,
    MAX_SESSION,
    Outcome,
    session_user,
    web_login,
)

SESSION = WebSession("therapist", "therapist.agenda", IDLE_TIMEOUT, MAX_SESSION)
LOGIN_PAGE = "therapist/login.html"
OPEN_ENDPOINTS = frozenset({"therapist.login", "therapist.login_post"})
renew_stamp = SESSION.renew_stamp


def current_login() -> str:
    """The therapist of this request (the guard has checked the session)."""
    return str(g.therapist)


@bp.before_request
def require_login() -> BaseResponse | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not SESSION.logged_in():
        return SESSION.to_login(expired=False)
    rt = runtime()
    found = SESSION.login_to_check()
    user = session_user(rt.store, rt.config, rt.secret_key, *found) if found else None
    if found is None or user is None:
        SESSION.end()
        return SESSION.to_login(expired=True)
    g.therapist = login = found[0]
    SESSION.touch()
    prefer_language(rt.config.therapists[login].language)
    return None


@bp.get("/login")
def login() -> str | BaseResponse:
    if SESSION.logged_in():
        return redirect(SESSION.safe_next(request.args.get("next")))
    values = {"next": request.args.get("next", "")}
    return render_template(LOGIN_PAGE, values=values, errors={}, problem="")


@bp.post("/login")
def login_post() -> BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = login_form()
    if form.errors:
        return login_page(LOGIN_PAGE, form.values, form.errors, problem="", status=422)
    rt = runtime()
    result = web_login(
        authenticator(), rt.config, rt.secret_key, form.login, form.password, request.remote_addr
    )
    if result.outcome is Outcome.OK:
        SESSION.start(result.login, result.stamp)
        return redirect(SESSION.safe_next(form.next), 303)
    if result.outcome is Outcome.THROTTLED:
        return throttled_page(LOGIN_PAGE, form.values, result.retry_after)
    return login_page(LOGIN_PAGE, form.values, {}, problem=refusal_text(result.outcome), status=422)


@bp.post("/logout")
def logout() -> BaseResponse:
    SESSION.end()
    flash(_("You have logged out."), "info")
    return redirect(url_for("therapist.login"), 303)


@bp.get("/")
def home() -> BaseResponse:
    return redirect(url_for("therapist.agenda"))


def refusal_text(outcome: Outcome) -> str:
    if outcome is Outcome.APP_PASSWORD:
        return app_password_text()
    if outcome is Outcome.NOT_A_THERAPIST:
        return _("This space is for therapists. The admin account uses the admin panel.")
    if outcome is Outcome.DEACTIVATED:
        return _("This account is deactivated. Please contact the practice's admin.")
    return wrong_credentials_text()


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

"""Logging in and out of the admin panel, and the guard in front of every other page.

The session's rules are `booking_web.web_session`'s; the guard also ends it when the
password changed (`caldav_bridge.admin_login`).

Failed attempts are counted by the therapist space's `Authenticator` (one per app for the
web): the admin password gets no extra tries by being tried on both login pages.
"""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin.blueprint import bp
from booking_web.context import runtime
from booking_web.i18n import _
from booking_web.therapist.blueprint import authenticator
from booking_web.web_session import (
    WebSession,
    app_password_text,
    login_form,
    login_page,
    throttled_page,
    wrong_credentials_text,
)
from caldav_bridge.admin_login import (
    IDLE_TIMEOUT,
    MAX_SESSION,
    AdminOutcome,
    admin_login,
    admin_session_user,
)

SESSION = WebSession("admin", "admin.practice", IDLE_TIMEOUT, MAX_SESSION)
LOGIN_PAGE = "admin/login.html"
OPEN_ENDPOINTS = frozenset({"admin.login", "admin.login_post"})


@bp.before_request
def require_admin() -> BaseResponse | None:
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not SESSION.logged_in():
        return SESSION.to_login(expired=False)
    rt = runtime()
    found = SESSION.login_to_check()
    user = admin_session_user(rt.store, rt.secret_key, *found) if found else None
    if found is None or user is None:
        SESSION.end()
        return SESSION.to_login(expired=True)
    g.admin = found[0]
    SESSION.touch()
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
        return login_page(LOGIN_PAGE, form.values, form.errors, "", 422)
    rt = runtime()
    result = admin_login(
        authenticator(), rt.secret_key, form.login, form.password, request.remote_addr
    )
    if result.outcome is AdminOutcome.OK:
        SESSION.start(result.login, result.stamp)
        with rt.store.write() as tx:
            tx.audit(result.login, "admin.login", result.login)
        return redirect(SESSION.safe_next(form.next), 303)
    if result.outcome is AdminOutcome.THROTTLED:
        return throttled_page(LOGIN_PAGE, form.values, result.retry_after)
    return login_page(LOGIN_PAGE, form.values, {}, _refusal_text(result.outcome), 422)


@bp.post("/logout")
def logout() -> BaseResponse:
    with runtime().store.write() as tx:
        tx.audit(g.admin, "admin.logout", g.admin)
    SESSION.end()
    flash(_("You have logged out."), "info")
    return redirect(url_for("admin.login"), 303)


@bp.get("/")
def home() -> BaseResponse:
    return redirect(url_for("admin.practice"))


def _refusal_text(outcome: AdminOutcome) -> str:
    if outcome is AdminOutcome.APP_PASSWORD:
        return app_password_text()
    if outcome is AdminOutcome.NOT_ADMIN:
        return _("This panel is for the practice's admin. Therapists use the therapist space.")
    return wrong_credentials_text()

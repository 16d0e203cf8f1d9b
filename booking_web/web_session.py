"""The login session of a private area (the therapist space, the admin panel), and the login
form's first checks. One implementation, so that both areas end sessions by the same rules.

The session (Flask's signed cookie: HttpOnly, SameSite=Lax, Secure when the public URL is
https) holds the login, a stamp of the stored password, the time of the login and of the last
request, under keys prefixed with the area's name, so that one browser may hold both. The
area's guard asks `WebSession.login_to_check` for the login and stamp of a session that is
neither idle for too long nor too old; checking the stamp against the store (the password
changed, the login was deactivated) is the area's own rule. Logging in starts a fresh session:
only the chosen language is kept, so nothing set before the login survives it, CSRF token
included.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from flask import flash, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import SESSION_KEY as LANGUAGE_KEY
from booking_web.i18n import _, ngettext

MAX_FIELD = 256


@dataclass(frozen=True)
class WebSession:
    area: str  # "therapist" or "admin": the blueprint, its URL prefix and the session keys
    home: str  # the endpoint after a login without a wanted page
    idle_timeout: timedelta
    max_session: timedelta

    @property
    def _stamp_key(self) -> str:
        return f"{self.area}_stamp"

    def logged_in(self) -> bool:
        return isinstance(session.get(self.area), str)

    def login_to_check(self) -> tuple[str, str] | None:
        """The session's login and password stamp, unless it is idle or old (then None)."""
        login, stamp = session.get(self.area), session.get(self._stamp_key)
        seen, since = session.get(f"{self.area}_seen"), session.get(f"{self.area}_since")
        if not (isinstance(login, str) and isinstance(stamp, str)):
            return None
        if not (isinstance(seen, float | int) and isinstance(since, float | int)):
            return None
        now = runtime().clock().timestamp()
        if now - seen > self.idle_timeout.total_seconds():
            return None
        if now - since > self.max_session.total_seconds():
            return None
        return login, stamp

    def touch(self) -> None:
        """Note this request (the idle timeout counts from here)."""
        session[f"{self.area}_seen"] = runtime().clock().timestamp()

    def start(self, login: str, stamp: str) -> None:
        self.end()
        now = runtime().clock().timestamp()
        session.update(
            {
                self.area: login,
                self._stamp_key: stamp,
                f"{self.area}_since": now,
                f"{self.area}_seen": now,
            }
        )

    def renew_stamp(self, stamp: str) -> None:
        """After this session changed the password: it stays open, the others end."""
        session[self._stamp_key] = stamp

    def end(self) -> None:
        language = session.get(LANGUAGE_KEY)
        session.clear()
        if language is not None:
            session[LANGUAGE_KEY] = language

    def to_login(self, *, expired: bool) -> BaseResponse:
        """To the login page, coming back to this page (a GET) after it."""
        if expired:
            flash(_("Your session has ended. Please log in again."), "info")
        wanted = request.full_path.rstrip("?") if request.method == "GET" else ""
        return redirect(url_for(f"{self.area}.login", next=wanted or None), 303)

    def safe_next(self, target: str | None) -> str:
        """``target`` if it is a page of this area, else its home (no open redirect)."""
        if (
            target
            and target.startswith(f"/{self.area}/")
            and "//" not in target
            and "\\" not in target
            and target.isprintable()
        ):
            return target
        return url_for(self.home)


@dataclass(frozen=True)
class LoginForm:
    login: str
    password: str
    next: str
    errors: dict[str, str]

    @property
    def values(self) -> dict[str, str]:
        """What the form shows again (never the password)."""
        return {"login": self.login, "next": self.next}


def login_form() -> LoginForm:
    """The posted login form, bounded, with a message for each empty field."""
    login = request.form.get("login", "")[:MAX_FIELD].strip()
    password = request.form.get("password", "")[:MAX_FIELD]
    errors: dict[str, str] = {}
    if not login:
        errors["login"] = _("Please enter your login.")
    if not password:
        errors["password"] = _("Please enter your password.")
    return LoginForm(login, password, request.form.get("next", ""), errors)


def login_page(
    template: str, values: dict[str, str], errors: dict[str, str], problem: str, status: int
) -> tuple[str, int]:
    return render_template(template, values=values, errors=errors, problem=problem), status


def throttled_page(
    template: str, values: dict[str, str], retry_after: int
) -> tuple[str, int, dict[str, str]]:
    """The login page saying when to try again (429, with Retry-After)."""
    page, status = login_page(template, values, {}, throttled_text(retry_after), 429)
    return page, status, {"Retry-After": str(retry_after)}


def app_password_text() -> str:
    return _(
        "This is an app password: it works in calendar apps only. "
        "Please log in with your main password."
    )


def wrong_credentials_text() -> str:
    return _("The login or the password is not correct.")


def throttled_text(retry_after: int) -> str:
    minutes = max(1, math.ceil(retry_after / 60))
    return ngettext(
        "Too many failed attempts. Please try again in %(num)d minute.",
        "Too many failed attempts. Please try again in %(num)d minutes.",
        minutes,
    ) % {"num": minutes}

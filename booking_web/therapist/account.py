"""My account: the password, app passwords for calendar apps, the CalDAV and feed addresses.

- The password changes with the current one (checked like a login: throttled, main password
  only) and the new one twice. It applies at once to the web and to CalDAV, in every
  process; the therapist's other web sessions end, this one stays.
- An app password's secret is shown once, in the answer to the POST that made it (never put
  in the session cookie, never stored: only its digest is).
- The read-only feed's secret address can be replaced; the old one then stops working.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.context import runtime
from booking_web.i18n import _, ngettext
from booking_web.therapist.auth import current_login, renew_stamp
from booking_web.therapist.blueprint import authenticator, bp
from booking_web.web_session import throttled_text
from caldav_bridge.accounts import (
    MAX_LABEL_LENGTH,
    NewAppPassword,
    create_app_password,
    list_app_passwords,
    revoke_app_password,
    set_password,
)
from caldav_bridge.errors import LoginError
from caldav_bridge.feed import feed_url, revoke_feed
from caldav_bridge.passwords import MAX_LENGTH, MIN_LENGTH
from caldav_bridge.therapist_login import Outcome, session_stamp, web_login

Page = str | tuple[str, int] | tuple[str, int, dict[str, str]] | BaseResponse


@bp.get("/account")
def account() -> str:
    return _account_page()


@bp.post("/account/password")
def change_password() -> Page:
    rt = runtime()
    login = current_login()
    current = request.form.get("current_password", "")[: MAX_LENGTH + 1]
    new = request.form.get("new_password", "")[: MAX_LENGTH + 1]
    again = request.form.get("new_password_again", "")[: MAX_LENGTH + 1]
    errors: dict[str, str] = {}
    if not current:
        errors["current_password"] = _("Please enter your current password.")
    problem = password_problem(new)
    if problem:
        errors["new_password"] = problem
    elif new != again:
        errors["new_password_again"] = _("The two new passwords are not the same.")
    if errors:
        return _account_page(errors=errors), 422
    checked = web_login(
        authenticator(), rt.config, rt.secret_key, login, current, request.remote_addr
    )
    if checked.outcome is Outcome.THROTTLED:
        page = _account_page(errors={"current_password": throttled_text(checked.retry_after)})
        return page, 429, {"Retry-After": str(checked.retry_after)}
    if checked.outcome is not Outcome.OK:
        errors["current_password"] = _("Your current password is not correct.")
        return _account_page(errors=errors), 422
    set_password(rt.store, login, new, actor=login)
    with rt.store.read() as tx:
        user = tx.user(login)
    assert user is not None
    renew_stamp(session_stamp(rt.secret_key, user))
    flash(
        _(
            "Your password has been changed. Calendar apps that use it need the new one; "
            "app passwords keep working."
        ),
        "info",
    )
    return redirect(url_for("therapist.account"), 303)


def password_problem(password: str) -> str:
    """Why ``password`` cannot be set ("" if it can): the rules of `check_acceptable`."""
    if len(password) < MIN_LENGTH:
        return ngettext(
            "The new password needs at least %(num)d character.",
            "The new password needs at least %(num)d characters.",
            MIN_LENGTH,
        ) % {"num": MIN_LENGTH}
    if len(password) > MAX_LENGTH:
        return ngettext(
            "The new password may have at most %(num)d character.",
            "The new password may have at most %(num)d characters.",
            MAX_LENGTH,
        ) % {"num": MAX_LENGTH}
    if any(ch in password for ch in "\r\n\x00"):
        return _("The new password may not contain line breaks.")
    return ""


@bp.post("/account/app-passwords")
def create_app_password_post() -> Page:
    rt = runtime()
    label = request.form.get("label", "")[: MAX_LABEL_LENGTH * 4]
    try:
        created = create_app_password(rt.store, current_login(), label, current_login())
    except LoginError:
        message = ngettext(
            "Please name the device in at most %(num)d character, e.g. iPhone.",
            "Please name the device in at most %(num)d characters, e.g. iPhone.",
            MAX_LABEL_LENGTH,
        ) % {"num": MAX_LABEL_LENGTH}
        return _account_page(errors={"label": message}, label=label), 422
    return _account_page(created=created)


@bp.post("/account/app-passwords/<int:password_id>/revoke")
def revoke_app_password_post(password_id: int) -> BaseResponse:
    done = revoke_app_password(runtime().store, current_login(), password_id, current_login())
    if done:
        flash(
            _("The app password has been revoked: the device using it can no longer sync."), "info"
        )
    else:
        flash(_("This app password no longer exists."), "error")
    return redirect(url_for("therapist.account"), 303)


@bp.post("/account/feed/revoke")
def revoke_feed_post() -> BaseResponse:
    revoke_feed(runtime().store, current_login(), current_login())
    flash(
        _("The old address of your feed no longer works. Subscribe to the new one below."), "info"
    )
    return redirect(url_for("therapist.account"), 303)


def _account_page(
    *,
    errors: dict[str, str] | None = None,
    created: NewAppPassword | None = None,
    label: str = "",
) -> str:
    rt = runtime()
    login = current_login()
    base = rt.config.server.public_url.rstrip("/")
    return render_template(
        "therapist/account.html",
        login=login,
        errors=errors or {},
        created=created,
        label=label,
        app_passwords=list_app_passwords(rt.store, login),
        caldav_url=f"{base}/dav/{quote(login, safe='')}/",
        server=urlsplit(base).netloc,
        https=base.startswith("https://"),
        feed=feed_url(rt, login),
    )

"""Form protection: a CSRF token per session on every POST, a honeypot field, safe headers.

- CSRF: a random token is kept in the (signed) session cookie and put into every form as the
  hidden field ``csrf_token``; a POST whose field does not match is refused with 400 before
  any view runs. Blueprints whose callers use no cookies (the JSON API) are exempted with
  `csrf_exempt`. The session cookie is HttpOnly and SameSite=Lax (`create_app`).
- Honeypot: the booking form has a field ``website`` that people never see or fill in; a
  request that fills it is refused quietly by the view.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, Flask, abort, current_app, request, session
from werkzeug.wrappers import Response

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
_SESSION_KEY = "csrf"
_EXEMPT = "booking_web.csrf_exempt"
HONEYPOT_FIELD = "website"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# For pages that use no inline script or style (the public, booking and manage pages).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def csrf_token() -> str:
    """This session's token (created on first use)."""
    token = session.get(_SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[_SESSION_KEY] = token
    return token


def csrf_exempt(app: Flask, blueprint: Blueprint) -> None:
    """Let ``blueprint``'s POSTs through without a token (callers that send no cookies)."""
    app.extensions.setdefault(_EXEMPT, set()).add(blueprint.name)


def csrf_valid() -> bool:
    expected = session.get(_SESSION_KEY)
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    return (
        isinstance(expected, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), sent.encode())
    )


def check_csrf() -> None:
    if request.method in SAFE_METHODS:
        return
    if request.blueprint in current_app.extensions.get(_EXEMPT, set()):
        return
    if not csrf_valid():
        abort(400, description="csrf")


def honeypot_filled() -> bool:
    return bool(request.form.get(HONEYPOT_FIELD, "").strip())


def secure_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def content_security_policy(response: Response) -> Response:
    if response.mimetype == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    return response


def private_page(response: Response) -> Response:
    """For pages whose address is a secret (manage links): not cached, not leaked."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def init_app(app: Flask) -> None:
    app.before_request(check_csrf)
    app.after_request(secure_headers)
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["csrf_field"] = CSRF_FIELD
    app.jinja_env.globals["honeypot_field"] = HONEYPOT_FIELD

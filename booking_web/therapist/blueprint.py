"""The therapist space's blueprint and its login throttle, shared by its view modules."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from booking_web.security import content_security_policy, private_page
from caldav_bridge.accounts import Authenticator

bp = Blueprint("therapist", __name__, url_prefix="/therapist")
bp.after_request(private_page)
bp.after_request(content_security_policy)

_AUTHENTICATOR = "booking_web.therapist.authenticator"


def install_authenticator(app: Flask) -> None:
    """Web logins get an `Authenticator` of their own (one per app, like the CalDAV one): the
    same rules, counted apart from calendar apps' attempts."""
    app.extensions[_AUTHENTICATOR] = Authenticator(app.extensions["runtime"].store)


def authenticator() -> Authenticator:
    found = current_app.extensions[_AUTHENTICATOR]
    assert isinstance(found, Authenticator)
    return found

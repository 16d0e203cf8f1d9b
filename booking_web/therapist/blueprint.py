"""The therapist space's blueprint and its login throttle, shared by its view modules."""

from __future__ import annotations

from flask import Blueprint, Flask, current_app

from booking_web.security import content_security_policy, private_page
from caldav_bridge.accounts import Authenticator
from caldav_bridge.login_throttle import Scope

bp = Blueprint("therapist", __name__, url_prefix="/therapist")
bp.after_request(private_page)
bp.after_request(content_security_policy)

_AUTHENTICATOR = "booking_web.therapist.authenticator"


def install_authenticator(app: Flask) -> None:
    """Web logins (therapist space and admin panel) get an `Authenticator` of their own (one
    per app, like the CalDAV one): the same rules, counted in the store apart from calendar
    apps' attempts (`Scope.WEB`), together with every other process's web logins."""
    runtime = app.extensions["runtime"]
    app.extensions[_AUTHENTICATOR] = Authenticator(runtime.store, runtime.secret_key, Scope.WEB)


def authenticator() -> Authenticator:
    found = current_app.extensions[_AUTHENTICATOR]
    assert isinstance(found, Authenticator)
    return found

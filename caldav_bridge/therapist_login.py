"""Logging in to the therapist space: the CalDAV credentials, main password only.

The check is `Authenticator.login` (one argon2 verification, the login throttle keyed by the
client's address), then the web's own rules:

- App passwords are for calendar apps: each one is stored on a single device and may sync a
  calendar, but it does not open the web space, where patient records are read and passwords
  changed. The holder of an app password therefore cannot change the main password or make
  more app passwords.
- Only therapists: the admin gets the admin panel (`/admin`), not this space.
- A therapist deactivated in the configuration, or whose login is deactivated, cannot log in.

A web session carries a stamp of the stored password: changing the password (anywhere) ends
the therapist's other sessions at their next request; the session that made the change gets
the new stamp.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from caldav_bridge.accounts import Authenticator, app_password_digest, read_credentials
from caldav_bridge.config import Config
from caldav_bridge.store import Store, User

IDLE_TIMEOUT = timedelta(minutes=30)
"""A session unused this long ends: the next request asks for the password again."""

MAX_SESSION = timedelta(hours=12)
"""A session ends this long after the login, however busy (a working day)."""


class Outcome(Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown login, wrong password, or a login deactivated in the store
    THROTTLED = "throttled"
    APP_PASSWORD = "app_password"  # noqa: S105 (an outcome, not a password)
    NOT_A_THERAPIST = "not_a_therapist"
    DEACTIVATED = "deactivated"


@dataclass(frozen=True)
class WebLogin:
    outcome: Outcome
    login: str = ""
    stamp: str = ""  # for the session, when OK
    retry_after: int = 0  # seconds, when THROTTLED


def web_login(
    authenticator: Authenticator,
    config: Config,
    secret_key: str,
    login: str,
    password: str,
    address: str | None,
) -> WebLogin:
    """Check a therapist's web login from the client at ``address``."""
    result = authenticator.login(login, password, address)
    if result.throttled:
        return WebLogin(Outcome.THROTTLED, retry_after=result.retry_after)
    user = result.user
    if user is None:
        return WebLogin(Outcome.WRONG)
    if is_app_password(authenticator.store, login, password):
        return WebLogin(Outcome.APP_PASSWORD)
    if user.role != "therapist":
        return WebLogin(Outcome.NOT_A_THERAPIST)
    if not therapist_active(config, login):
        return WebLogin(Outcome.DEACTIVATED)
    return WebLogin(Outcome.OK, login=user.login, stamp=session_stamp(secret_key, user))


def is_app_password(store: Store, login: str, password: str) -> bool:
    """True if ``password`` is one of ``login``'s live app passwords (a digest comparison)."""
    digest = app_password_digest(password)
    credentials = read_credentials(store, login)
    return any(hmac.compare_digest(app.password_hash, digest) for app in credentials.app_passwords)


def therapist_active(config: Config, login: str) -> bool:
    therapist = config.therapists.get(login)
    return therapist is not None and therapist.active


def session_stamp(secret_key: str, user: User) -> str:
    """Changes when the user's password does; reveals nothing about it."""
    message = f"session:{user.id}:{user.password_hash or ''}".encode()
    return hmac.new(secret_key.encode(), message, hashlib.sha256).hexdigest()[:32]


def session_user(
    store: Store, config: Config, secret_key: str, login: str, stamp: str
) -> User | None:
    """The therapist a session names, if it is still valid: same password, still active."""
    with store.read() as tx:
        user = tx.user(login)
    if user is None or not user.active or user.role != "therapist":
        return None
    if not therapist_active(config, login):
        return None
    if not hmac.compare_digest(session_stamp(secret_key, user), stamp):
        return None
    return user

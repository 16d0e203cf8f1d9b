"""Logging in to the admin panel: the `admin` login created by `caldav-bridge init`.

The same rules as the therapist space (`caldav_bridge.therapist_login`), whose stamp, idle
timeout and session lifetime are reused: one throttled argon2 check through the web's
`Authenticator`; app passwords never open a web session; only the admin role gets in (a
therapist's correct password is refused with a pointer to the therapist space). A session
carries a stamp of the stored password, so a password change ends the other sessions.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from enum import Enum

from caldav_bridge.accounts import Authenticator
from caldav_bridge.store import Store, User
from caldav_bridge.therapist_login import IDLE_TIMEOUT, MAX_SESSION, is_app_password, session_stamp

__all__ = ["IDLE_TIMEOUT", "MAX_SESSION", "AdminLogin", "AdminOutcome", "admin_login"]


class AdminOutcome(Enum):
    OK = "ok"
    WRONG = "wrong"  # unknown login, wrong password, or a deactivated login
    THROTTLED = "throttled"
    APP_PASSWORD = "app_password"  # noqa: S105 (an outcome, not a password)
    NOT_ADMIN = "not_admin"


@dataclass(frozen=True)
class AdminLogin:
    outcome: AdminOutcome
    login: str = ""
    stamp: str = ""  # for the session, when OK
    retry_after: int = 0  # seconds, when THROTTLED


def admin_login(
    authenticator: Authenticator, secret_key: str, login: str, password: str, address: str | None
) -> AdminLogin:
    """Check an admin's web login from the client at ``address``."""
    result = authenticator.login(login, password, address)
    if result.throttled:
        return AdminLogin(AdminOutcome.THROTTLED, retry_after=result.retry_after)
    user = result.user
    if user is None:
        return AdminLogin(AdminOutcome.WRONG)
    if is_app_password(authenticator.store, login, password):
        return AdminLogin(AdminOutcome.APP_PASSWORD)
    if user.role != "admin":
        return AdminLogin(AdminOutcome.NOT_ADMIN)
    return AdminLogin(AdminOutcome.OK, login=user.login, stamp=session_stamp(secret_key, user))


def admin_session_user(store: Store, secret_key: str, login: str, stamp: str) -> User | None:
    """The admin a session names, if it is still valid: same password, still active."""
    with store.read() as tx:
        user = tx.user(login)
    if user is None or not user.active or user.role != "admin":
        return None
    if not hmac.compare_digest(session_stamp(secret_key, user), stamp):
        return None
    return user

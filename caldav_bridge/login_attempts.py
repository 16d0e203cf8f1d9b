"""The login throttle at work: the policy of `caldav_bridge.login_throttle` over the memory
the store keeps for every process (`caldav_bridge.store.login_attempts`).

Each method runs inside the caller's transaction, so a login attempt reads the stored
credentials and its history in one read transaction, and records its outcome in one write.
Logins are kept as given when they fit a column and print; any other is kept as its digest
(still counted like any login, never failing the write).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from caldav_bridge.login_throttle import RULES, Decision, Scope, ThrottleRules, decide
from caldav_bridge.store import Tx

MAX_STORED_LOGIN = 64


@dataclass(frozen=True)
class Attempt:
    """One login attempt as the throttle counts it."""

    login: str
    address: str  # `caldav_bridge.client_address.client_key`
    credential: str  # a keyed digest of what was sent (64 hex digits), never the password


class LoginThrottle:
    """Decides and records login attempts of one `Scope` in the store."""

    def __init__(self, scope: Scope, rules: ThrottleRules = RULES) -> None:
        self.scope = scope
        self.rules = rules

    def decide(self, tx: Tx, attempt: Attempt, now: datetime) -> Decision:
        """What to do with ``attempt`` (one indexed query)."""
        history = tx.login_history(
            self.scope.value,
            stored_login(attempt.login),
            attempt.address,
            attempt.credential,
            now,
            self.rules,
        )
        return decide(history, now, self.rules)

    def failed(self, tx: Tx, attempt: Attempt, now: datetime) -> None:
        """A verified attempt that did not match (``tx`` is a write)."""
        tx.record_login_failure(
            self.scope.value,
            stored_login(attempt.login),
            attempt.address,
            attempt.credential,
            now,
            self.rules,
        )

    def succeeded(self, tx: Tx, attempt: Attempt, now: datetime) -> None:
        """A verified attempt that matched (``tx`` is a write)."""
        tx.record_login_success(
            self.scope.value, stored_login(attempt.login), attempt.address, now, self.rules
        )


def stored_login(login: str) -> str:
    """``login`` as the throttle's tables keep it: as is if short and printable, else a digest
    (an over-long or control-character login is no user's; it is still counted)."""
    if len(login) <= MAX_STORED_LOGIN and login.isprintable():
        return login
    return hashlib.sha256(login.encode("utf-8", "surrogatepass")).hexdigest()

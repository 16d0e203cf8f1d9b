"""Login throttling: how many password guesses a login and a client address get.

The policy (DESIGN.md §8 "login throttling"), with a failure meaning one password that was
really verified and did not match, within a sliding window of 15 minutes:

1. The same wrong password again (a phone still holding an old password, syncing every few
   minutes) is answered "wrong" at once and is not counted again: it teaches nothing, and
   it must not lock out the therapist's other devices behind the same address.
2. One address, one login: after 5 failures the address's attempts on that login are refused
   without verification until the oldest of those failures leaves the window.
3. One address, all logins: after 20 failures the address is refused, except for logins it
   has already opened successfully (password spraying from one machine).
4. One login, all addresses: after 50 failures (a distributed attack: rule 2 gives each
   address only 5) the login is refused from every address that has not opened it
   successfully within 30 days; the therapist's usual addresses keep working.

A refused attempt verifies nothing, so it is not a failure and does not extend a backoff:
an attacker can never lock a login for longer than the window, and never from an address
that has opened it before. A success forgets that address's failures on that login (rule 2).

This module is the decision only, pure: `decide` turns a `History` (what the store remembers
about one attempt, `caldav_bridge.store.login_attempts`, shared by every process) into a
`Decision`, and reads no clock: ``now`` is an aware datetime given by the caller.
`ThrottleRules` holds the numbers; a `Scope` keeps calendar apps' and web logins' attempts
counted apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum


class Scope(Enum):
    """Whose attempts are counted together."""

    CALDAV = "caldav"  # calendar apps (Radicale)
    WEB = "web"  # the therapist space and the admin panel


@dataclass(frozen=True)
class ThrottleRules:
    window: timedelta = timedelta(minutes=15)
    per_login_address: int = 5
    per_address: int = 20
    per_login: int = 50
    known_address_for: timedelta = timedelta(days=30)


RULES = ThrottleRules()


class Verdict(Enum):
    VERIFY = "verify"  # check the password
    KNOWN_WRONG = "known wrong"  # this exact password failed recently: refuse, do not count
    THROTTLED = "throttled"  # refuse without checking


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    retry_after: float = 0.0  # seconds, for THROTTLED


VERIFY = Decision(Verdict.VERIFY)
KNOWN_WRONG = Decision(Verdict.KNOWN_WRONG)


@dataclass(frozen=True)
class History:
    """What the store remembers that bears on one attempt (a login, an address, a credential).

    Each ``*_limit`` is the failure that keeps a limit reached while it is in the window: the
    n-th latest failure counted by that rule, n being the rule's limit; None while fewer than
    n are in the window.
    """

    wrong_again: bool = False  # this credential failed on this login within the window
    last_success: datetime | None = None  # this address's last success on this login
    pair_limit: datetime | None = None  # rule 2: this login from this address, since success
    address_limit: datetime | None = None  # rule 3: this address, any login
    login_limit: datetime | None = None  # rule 4: this login, any address


def decide(history: History, now: datetime, rules: ThrottleRules = RULES) -> Decision:
    """What to do with an attempt, given what the store remembers about it."""
    if history.wrong_again:
        return KNOWN_WRONG
    waits = [_wait(history.pair_limit, now, rules.window)]
    if not known_address(history.last_success, now, rules):
        waits.append(_wait(history.address_limit, now, rules.window))
        waits.append(_wait(history.login_limit, now, rules.window))
    wait = max(waits)
    return Decision(Verdict.THROTTLED, wait) if wait > 0 else VERIFY


def known_address(last_success: datetime | None, now: datetime, rules: ThrottleRules) -> bool:
    """True if the address opened the login recently enough to pass rules 3 and 4."""
    return last_success is not None and now - last_success < rules.known_address_for


def _wait(limit: datetime | None, now: datetime, window: timedelta) -> float:
    """Seconds until ``limit`` leaves the window (0: the limit is not reached)."""
    if limit is None:
        return 0.0
    return max(0.0, (limit + window - now).total_seconds())

"""The login throttle's decision (caldav_bridge.login_throttle.decide), pure: what the store
remembers about an attempt in, a decision out. Every rule of the policy, at the edges of its
window. The same rules through the real store, on SQLite and PostgreSQL and across processes,
are in tests/integration/test_login_throttle_store.py.

Times are minutes after 10:00 UTC on a fixed day; the window is 15 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from caldav_bridge.client_address import client_key
from caldav_bridge.login_throttle import (
    KNOWN_WRONG,
    RULES,
    VERIFY,
    Decision,
    History,
    ThrottleRules,
    Verdict,
    decide,
    known_address,
)

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MINUTE = 60.0
DAY = timedelta(days=1)


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def throttled(seconds: float) -> Decision:
    return Decision(Verdict.THROTTLED, seconds)


NOW = at(20)


@pytest.mark.parametrize(
    ("history", "expected"),
    [
        # Nothing remembered: check the password.
        (History(), VERIFY),
        # Rule 1: this very credential failed within the window; it wins over every limit.
        (History(wrong_again=True), KNOWN_WRONG),
        (History(wrong_again=True, pair_limit=at(19)), KNOWN_WRONG),
        # Rule 2: the 5th latest failure of the pair at 10:10 keeps it refused until 10:25.
        (History(pair_limit=at(10)), throttled(5 * MINUTE)),
        # ... and even from an address that opened the login before (it guessed since).
        (History(last_success=at(1), pair_limit=at(10)), throttled(5 * MINUTE)),
        # Exactly 15 minutes old: out of the window.
        (History(pair_limit=at(5)), VERIFY),
        # Rule 3: 20 failures from this address (any logins), for a login it never opened.
        (History(address_limit=at(6)), throttled(1 * MINUTE)),
        # ... but not for a login it opened within 30 days.
        (History(last_success=NOW - 29 * DAY, address_limit=at(6)), VERIFY),
        (History(last_success=NOW - 30 * DAY, address_limit=at(6)), throttled(1 * MINUTE)),
        # Rule 4: 50 failures on this login (any addresses): refused from a new address ...
        (History(login_limit=at(19)), throttled(14 * MINUTE)),
        # ... never from one that opened it within 30 days.
        (History(last_success=at(-60), login_limit=at(19)), VERIFY),
        (History(last_success=NOW - 31 * DAY, login_limit=at(19)), throttled(14 * MINUTE)),
        # Several limits reached: the longest wait is the answer.
        (History(pair_limit=at(6), address_limit=at(12), login_limit=at(8)), throttled(7 * MINUTE)),
        # A known address waits for its own pair only.
        (
            History(last_success=at(0), pair_limit=at(6), address_limit=at(19), login_limit=at(19)),
            throttled(1 * MINUTE),
        ),
    ],
)
def test_decisions(history: History, expected: Decision) -> None:
    assert decide(history, NOW, RULES) == expected


def test_a_wait_never_exceeds_the_window() -> None:
    """However long an attack went on, a limit reached by a failure made just now lifts when
    that failure leaves the window: nobody is locked out for longer."""
    worst = History(pair_limit=NOW, address_limit=NOW, login_limit=NOW)
    assert decide(worst, NOW, RULES) == throttled(15 * MINUTE)
    assert decide(worst, NOW + RULES.window, RULES) == VERIFY


def test_the_rules_numbers_are_the_policys() -> None:
    numbers = (RULES.per_login_address, RULES.per_address, RULES.per_login)
    assert numbers == (5, 20, 50)
    assert (RULES.window, RULES.known_address_for) == (timedelta(minutes=15), timedelta(days=30))


def test_other_rules_apply_their_own_window() -> None:
    short = ThrottleRules(window=timedelta(minutes=1), known_address_for=timedelta(hours=1))
    assert decide(History(pair_limit=at(19.5)), NOW, short) == throttled(30.0)
    assert decide(History(pair_limit=at(19)), NOW, short) == VERIFY
    assert not known_address(NOW - timedelta(hours=1), NOW, short)
    assert known_address(NOW - timedelta(minutes=59), NOW, short)
    assert not known_address(None, NOW, short)


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # the same host network
        ("::ffff:192.0.2.10", "192.0.2.10"),
        ("", "unknown"),
        (None, "unknown"),
        ("not an address", "unknown"),
    ],
)
def test_client_key(address: str | None, key: str) -> None:
    assert client_key(address) == key

"""The login throttle's decisions (caldav_bridge.login_throttle), on a clock the test holds.

Times are seconds since the test's start; the window is 15 minutes.
"""

from __future__ import annotations

import pytest

from caldav_bridge.client_address import client_key
from caldav_bridge.login_throttle import (
    KNOWN_WRONG,
    VERIFY,
    Decision,
    LoginThrottle,
    ThrottleRules,
    Verdict,
)

MINUTE = 60.0
HOME = "192.0.2.10"
OFFICE = "198.51.100.7"
ATTACKER = "203.0.113.66"


def guesses(throttle: LoginThrottle, login: str, address: str, count: int, at: float) -> None:
    """``count`` different wrong passwords, each verified and failed."""
    for n in range(count):
        guess = f"{login}-{address}-{at}-{n}"
        assert throttle.decide(login, address, guess, at) == VERIFY
        throttle.failed(login, address, guess, at)


def refused(decision: Decision) -> bool:
    return decision.verdict is Verdict.THROTTLED


def test_five_wrong_guesses_from_one_address_throttle_that_address_for_that_login() -> None:
    throttle = LoginThrottle()
    guesses(throttle, "anne", ATTACKER, 5, at=0)
    sixth = throttle.decide("anne", ATTACKER, "one more", 1 * MINUTE)
    assert refused(sixth)
    assert sixth.retry_after == 14 * MINUTE  # until the first guess leaves the window
    assert throttle.decide("anne", HOME, "her password", 1 * MINUTE) == VERIFY
    assert throttle.decide("marc", ATTACKER, "a guess at marc", 1 * MINUTE) == VERIFY


def test_the_backoff_ends_when_the_guesses_leave_the_window() -> None:
    throttle = LoginThrottle()
    guesses(throttle, "anne", ATTACKER, 4, at=0)
    guesses(throttle, "anne", ATTACKER, 1, at=5 * MINUTE)
    assert refused(throttle.decide("anne", ATTACKER, "x", 14 * MINUTE))
    assert throttle.decide("anne", ATTACKER, "x", 15 * MINUTE) == VERIFY  # 4 left in window


def test_refused_attempts_do_not_extend_the_backoff() -> None:
    throttle = LoginThrottle()
    guesses(throttle, "anne", ATTACKER, 5, at=0)
    for minute in range(1, 15):
        assert refused(throttle.decide("anne", ATTACKER, f"guess {minute}", minute * MINUTE))
    assert throttle.decide("anne", ATTACKER, "after the window", 15 * MINUTE) == VERIFY


def test_the_same_wrong_password_again_is_known_wrong_and_not_counted() -> None:
    """A phone with an outdated password syncing every minute never locks the address."""
    throttle = LoginThrottle()
    for minute in range(30):
        decision = throttle.decide("anne", OFFICE, "old password", minute * MINUTE)
        if minute % 15 == 0:  # once per window it is checked again
            assert decision == VERIFY
            throttle.failed("anne", OFFICE, "old password", minute * MINUTE)
        else:
            assert decision == KNOWN_WRONG
    assert throttle.decide("anne", OFFICE, "new password", 30 * MINUTE) == VERIFY


def test_a_success_forgets_that_addresss_failures() -> None:
    throttle = LoginThrottle()
    guesses(throttle, "anne", HOME, 4, at=0)
    throttle.succeeded("anne", HOME, 1 * MINUTE)
    guesses(throttle, "anne", HOME, 4, at=2 * MINUTE)
    assert throttle.decide("anne", HOME, "typo", 3 * MINUTE) == VERIFY


def test_an_address_spraying_many_logins_is_refused_for_logins_it_never_opened() -> None:
    throttle = LoginThrottle()
    throttle.succeeded("anne", OFFICE, 0)
    for n in range(5):
        guesses(throttle, f"user{n}", OFFICE, 4, at=1 * MINUTE)  # 20 failures, 4 per login
    assert refused(throttle.decide("marc", OFFICE, "guess", 2 * MINUTE))
    assert refused(throttle.decide("someone", OFFICE, "guess", 2 * MINUTE))
    assert throttle.decide("anne", OFFICE, "her password", 2 * MINUTE) == VERIFY
    assert throttle.decide("marc", HOME, "his password", 2 * MINUTE) == VERIFY


def test_a_distributed_attack_on_one_login_spares_its_known_addresses() -> None:
    """50 guesses from 25 addresses: new addresses wait, the therapist's usual ones do not."""
    throttle = LoginThrottle()
    throttle.succeeded("anne", HOME, 0)
    for n in range(25):
        guesses(throttle, "anne", f"203.0.113.{n}", 2, at=1 * MINUTE)
    assert refused(throttle.decide("anne", "203.0.113.200", "guess", 2 * MINUTE))
    assert throttle.decide("anne", HOME, "her password", 2 * MINUTE) == VERIFY
    assert throttle.decide("marc", "203.0.113.200", "guess", 2 * MINUTE) == VERIFY
    # Never for longer than the window, however long the attack went on before.
    assert throttle.decide("anne", "203.0.113.200", "guess", 16 * MINUTE) == VERIFY


def test_a_known_address_expires_after_thirty_days() -> None:
    throttle = LoginThrottle()
    throttle.succeeded("anne", HOME, 0)
    later = 31 * 24 * 60 * MINUTE
    for n in range(25):
        guesses(throttle, "anne", f"203.0.113.{n}", 2, at=later)
    assert refused(throttle.decide("anne", HOME, "her password", later + MINUTE))


def test_an_unknown_login_is_throttled_like_a_known_one() -> None:
    """The throttle never looks at whether a login exists: no enumeration through it."""
    throttle = LoginThrottle()
    guesses(throttle, "nobody", ATTACKER, 5, at=0)
    assert refused(throttle.decide("nobody", ATTACKER, "x", MINUTE))


def test_memory_is_bounded() -> None:
    rules = ThrottleRules(max_keys=100, max_wrong_passwords=3)
    throttle = LoginThrottle(rules)
    for n in range(1000):
        throttle.failed(f"login{n}", f"10.0.{n // 256}.{n % 256}", f"guess{n}", 0)
    for n in range(10):
        throttle.failed("anne", ATTACKER, f"guess{n}", 0)
    assert len(throttle._pairs._times) <= 100
    assert len(throttle._logins._times) <= 100
    assert len(throttle._wrong) <= 100
    assert len(throttle._wrong["anne"]) == 3


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

"""The login throttle's policy through the real store, on SQLite and PostgreSQL.

Two handles on one database stand for two `serve` processes: attempts recorded through
either are counted by both. Times are minutes after 10:00 UTC on a fixed day, given to the
throttle as each attempt's ``now``; the window is 15 minutes. The decision alone is
unit-tested in tests/unit/test_login_throttle.py.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from caldav_bridge.login_attempts import Attempt, LoginThrottle
from caldav_bridge.login_throttle import (
    KNOWN_WRONG,
    VERIFY,
    Decision,
    Scope,
    ThrottleRules,
    Verdict,
)
from caldav_bridge.store import Store
from caldav_bridge.store.login_attempts import PRUNE_BATCH, login_failures, login_known_addresses

START = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MINUTE = 60.0
HOME = "192.0.2.10"
OFFICE = "198.51.100.7"
ATTACKER = "203.0.113.66"
GUESSES = itertools.count()  # makes every guess a different password


def at(minutes: float) -> datetime:
    return START + timedelta(minutes=minutes)


def digest(text: str) -> str:
    """A credential as the throttle gets it: 64 hex digits."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass
class Process:
    """One `serve` process's view of the throttle: its own store handle."""

    store: Store
    throttle: LoginThrottle

    def decide(self, login: str, address: str, password: str, minutes: float) -> Decision:
        with self.store.read() as tx:
            return self.throttle.decide(tx, Attempt(login, address, digest(password)), at(minutes))

    def failed(self, login: str, address: str, password: str, minutes: float) -> None:
        with self.store.write() as tx:
            self.throttle.failed(tx, Attempt(login, address, digest(password)), at(minutes))

    def succeeded(self, login: str, address: str, minutes: float) -> None:
        with self.store.write() as tx:
            self.throttle.succeeded(tx, Attempt(login, address, digest("right")), at(minutes))

    def guesses(self, login: str, address: str, count: int, minutes: float) -> None:
        """``count`` different wrong passwords, each verified and failed."""
        for n in range(count):
            guess = f"{login}-{address}-{minutes}-{n}-{next(GUESSES)}"
            assert self.decide(login, address, guess, minutes) == VERIFY
            self.failed(login, address, guess, minutes)


@pytest.fixture
def processes(database_url: str, store: Store) -> Iterator[tuple[Process, Process]]:
    other = Store.connect(database_url)
    yield Process(store, LoginThrottle(Scope.CALDAV)), Process(other, LoginThrottle(Scope.CALDAV))
    other.close()


def refused(decision: Decision) -> bool:
    return decision.verdict is Verdict.THROTTLED


def rows(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_five_guesses_split_between_two_processes_throttle_the_sixth_on_both(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    one.guesses("anne", ATTACKER, 3, minutes=0)
    two.guesses("anne", ATTACKER, 2, minutes=0)
    for process in (one, two):
        sixth = process.decide("anne", ATTACKER, "one more", 1)
        assert sixth == Decision(Verdict.THROTTLED, 14 * MINUTE)  # until the first one leaves
        assert process.decide("anne", HOME, "her password", 1) == VERIFY
        assert process.decide("marc", ATTACKER, "a guess at marc", 1) == VERIFY


def test_the_backoff_ends_when_the_guesses_leave_the_window(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    one.guesses("anne", ATTACKER, 4, minutes=0)
    two.guesses("anne", ATTACKER, 1, minutes=5)
    assert refused(one.decide("anne", ATTACKER, "x", 14))
    assert two.decide("anne", ATTACKER, "x", 15) == VERIFY  # 1 left in the window


def test_refused_attempts_do_not_extend_the_backoff(processes: tuple[Process, Process]) -> None:
    one, two = processes
    one.guesses("anne", ATTACKER, 5, minutes=0)
    for minute in range(1, 15):
        process = (one, two)[minute % 2]
        assert refused(process.decide("anne", ATTACKER, f"guess {minute}", minute))
    assert two.decide("anne", ATTACKER, "after the window", 15) == VERIFY


def test_the_same_wrong_password_is_known_wrong_in_every_process_and_counted_once(
    processes: tuple[Process, Process],
) -> None:
    """A phone with an outdated password, syncing every minute through either process,
    never locks its address."""
    for minute in range(30):
        process = processes[minute % 2]
        decision = process.decide("anne", OFFICE, "old password", minute)
        if minute % 15 == 0:  # once per window it is checked again
            assert decision == VERIFY
            process.failed("anne", OFFICE, "old password", minute)
        else:
            assert decision == KNOWN_WRONG
    assert processes[0].decide("anne", OFFICE, "new password", 30) == VERIFY


def test_a_success_in_one_process_forgets_that_addresss_failures_in_the_other(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    one.guesses("anne", HOME, 4, minutes=0)
    two.succeeded("anne", HOME, 1)
    one.guesses("anne", HOME, 4, minutes=2)
    assert one.decide("anne", HOME, "typo", 3) == VERIFY
    one.guesses("anne", HOME, 1, minutes=3)
    assert refused(two.decide("anne", HOME, "typo", 4))  # 5 since the success


def test_an_address_spraying_many_logins_is_refused_for_logins_it_never_opened(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    one.succeeded("anne", OFFICE, 0)
    for n in range(5):
        processes[n % 2].guesses(f"user{n}", OFFICE, 4, minutes=1)  # 20 failures, 4 per login
    for process in (one, two):
        assert refused(process.decide("marc", OFFICE, "guess", 2))
        assert refused(process.decide("someone", OFFICE, "guess", 2))
        assert process.decide("anne", OFFICE, "her password", 2) == VERIFY
        assert process.decide("marc", HOME, "his password", 2) == VERIFY


def test_a_distributed_attack_on_one_login_spares_its_known_addresses(
    processes: tuple[Process, Process],
) -> None:
    """50 guesses from 25 addresses through both processes: new addresses wait, the
    therapist's usual ones do not."""
    one, two = processes
    one.succeeded("anne", HOME, 0)
    for n in range(25):
        processes[n % 2].guesses("anne", f"203.0.113.{n}", 2, minutes=1)
    for process in (one, two):
        assert refused(process.decide("anne", "203.0.113.200", "guess", 2))
        assert process.decide("anne", HOME, "her password", 2) == VERIFY
        assert process.decide("marc", "203.0.113.200", "guess", 2) == VERIFY
    # Never for longer than the window, however long the attack went on before.
    assert two.decide("anne", "203.0.113.200", "guess", 16) == VERIFY


def test_a_known_address_expires_after_thirty_days(processes: tuple[Process, Process]) -> None:
    one, two = processes
    one.succeeded("anne", HOME, 0)
    later = 31 * 24 * 60
    for n in range(25):
        processes[n % 2].guesses("anne", f"203.0.113.{n}", 2, minutes=later)
    assert refused(two.decide("anne", HOME, "her password", later + 1))


@pytest.mark.parametrize("login", ["nobody", "x" * 300, "anne\x00", "ann\ud800e"])
def test_any_login_is_throttled_like_a_known_one(
    processes: tuple[Process, Process], login: str
) -> None:
    """The throttle never looks at whether a login exists: no enumeration through it. A
    login no column could hold (too long, a NUL byte PostgreSQL refuses) is counted too."""
    one, two = processes
    one.guesses(login, ATTACKER, 3, minutes=0)
    two.guesses(login, ATTACKER, 2, minutes=0)
    assert refused(one.decide(login, ATTACKER, "x", 1))
    assert one.decide("anne", ATTACKER, "x", 1) == VERIFY


def test_calendar_apps_and_web_logins_are_counted_apart(store: Store) -> None:
    caldav = Process(store, LoginThrottle(Scope.CALDAV))
    web = Process(store, LoginThrottle(Scope.WEB))
    caldav.guesses("anne", ATTACKER, 5, minutes=0)
    assert refused(caldav.decide("anne", ATTACKER, "x", 1))
    assert web.decide("anne", ATTACKER, "x", 1) == VERIFY
    web.succeeded("anne", HOME, 1)
    caldav.guesses("anne", HOME, 5, minutes=2)
    assert refused(caldav.decide("anne", HOME, "x", 3))  # the web success did not reset it


def test_failures_made_at_once_by_several_processes_are_all_counted(
    database_url: str, store: Store
) -> None:
    """No read-modify-write: each failure is a row of its own."""
    rules = ThrottleRules(per_login=24)
    handles = [store, Store.connect(database_url), Store.connect(database_url)]
    processes = [Process(handle, LoginThrottle(Scope.CALDAV, rules)) for handle in handles]
    start = threading.Barrier(24)
    errors: list[BaseException] = []

    def fail(n: int) -> None:
        try:
            start.wait()
            processes[n % 3].failed("anne", f"203.0.113.{n}", f"guess {n}", 0)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=fail, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for handle in handles[1:]:
        handle.close()
    assert errors == []
    assert refused(processes[0].decide("anne", "203.0.113.200", "guess", 1))  # all 24 count
    assert rows(store, login_failures) == 24


def test_rows_past_their_use_are_pruned_a_batch_per_write(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    for n in range(3 * PRUNE_BATCH):
        one.failed("anne", ATTACKER, f"old guess {n}", 0)
    one.succeeded("anne", OFFICE, 0)
    assert rows(one.store, login_failures) == 3 * PRUNE_BATCH
    # 15 minutes later the old failures are past their use: each new failure removes a batch.
    two.failed("anne", HOME, "typo", 15)
    assert rows(one.store, login_failures) == 2 * PRUNE_BATCH + 1
    two.failed("anne", HOME, "typo 2", 16)
    two.failed("anne", HOME, "typo 3", 17)
    two.failed("anne", HOME, "typo 4", 18)
    assert rows(one.store, login_failures) == 4  # the ones within the window stay
    assert one.decide("anne", HOME, "typo 5", 19) == VERIFY  # 4 typos: not yet throttled
    # A known address is forgotten 30 days after its last success, at the next success.
    assert rows(one.store, login_known_addresses) == 1
    two.succeeded("marc", HOME, 30 * 24 * 60)
    assert rows(one.store, login_known_addresses) == 1  # marc's; anne's at the office is gone

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
that has opened it before. A success forgets that address's failures on that login.

Everything is in memory and per process, bounded in size, and takes ``now`` (monotonic
seconds) from the caller; `ThrottleRules` holds the numbers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True)
class ThrottleRules:
    window: float = 15 * 60.0
    per_login_address: int = 5
    per_address: int = 20
    per_login: int = 50
    known_address_for: float = 30 * 24 * 3600.0
    max_keys: int = 10_000  # tracked logins, addresses or pairs (oldest forgotten first)
    max_known_addresses: int = 32  # remembered good addresses per login
    max_wrong_passwords: int = 32  # remembered wrong passwords per login


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


class _Recent:
    """Keys mapped to their most recent event times (at most ``keep`` each), LRU-bounded."""

    def __init__(self, keep: int, max_keys: int) -> None:
        self.keep = keep
        self.max_keys = max_keys
        self._times: OrderedDict[object, deque[float]] = OrderedDict()

    def add(self, key: object, now: float) -> None:
        times = self._times.pop(key, None) or deque(maxlen=self.keep)
        times.append(now)
        self._times[key] = times
        while len(self._times) > self.max_keys:
            self._times.popitem(last=False)

    def forget(self, key: object) -> None:
        self._times.pop(key, None)

    def retry_after(self, key: object, now: float, window: float) -> float:
        """Seconds until fewer than ``keep`` events remain in the window (0: not reached)."""
        times = self._times.get(key)
        if times is None or len(times) < self.keep:
            return 0.0
        return max(0.0, times[0] + window - now)


class LoginThrottle:
    """The throttle's memory and decisions; safe to share between threads."""

    def __init__(self, rules: ThrottleRules | None = None) -> None:
        self.rules = r = rules or ThrottleRules()
        self._lock = threading.Lock()
        self._pairs = _Recent(r.per_login_address, r.max_keys)
        self._addresses = _Recent(r.per_address, r.max_keys)
        self._logins = _Recent(r.per_login, r.max_keys)
        self._known: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()
        self._wrong: OrderedDict[str, OrderedDict[str, float]] = OrderedDict()

    def decide(self, login: str, address: str, credential: str, now: float) -> Decision:
        """What to do with an attempt; ``credential`` is a keyed digest of what was sent."""
        r = self.rules
        with self._lock:
            if _fresh(self._wrong.get(login, {}), credential, now, r.window):
                return KNOWN_WRONG
            waits = [self._pairs.retry_after((login, address), now, r.window)]
            if not _fresh(self._known.get(login, {}), address, now, r.known_address_for):
                waits.append(self._addresses.retry_after(address, now, r.window))
                waits.append(self._logins.retry_after(login, now, r.window))
        wait = max(waits)
        return Decision(Verdict.THROTTLED, wait) if wait > 0 else VERIFY

    def failed(self, login: str, address: str, credential: str, now: float) -> None:
        """A verified attempt that did not match."""
        with self._lock:
            self._pairs.add((login, address), now)
            self._addresses.add(address, now)
            self._logins.add(login, now)
            _remember(self._wrong, login, credential, now, self.rules.max_wrong_passwords)
            self._bound(self._wrong)

    def succeeded(self, login: str, address: str, now: float) -> None:
        with self._lock:
            self._pairs.forget((login, address))
            _remember(self._known, login, address, now, self.rules.max_known_addresses)
            self._bound(self._known)

    def _bound(self, table: OrderedDict[str, OrderedDict[str, float]]) -> None:
        while len(table) > self.rules.max_keys:
            table.popitem(last=False)


def _fresh(
    seen: OrderedDict[str, float] | dict[str, float], key: str, now: float, ttl: float
) -> bool:
    at = seen.get(key)
    return at is not None and now - at < ttl


def _remember(
    table: OrderedDict[str, OrderedDict[str, float]], login: str, key: str, now: float, keep: int
) -> None:
    entries = table.pop(login, None) or OrderedDict()
    entries.pop(key, None)
    entries[key] = now
    while len(entries) > keep:
        entries.popitem(last=False)
    table[login] = entries

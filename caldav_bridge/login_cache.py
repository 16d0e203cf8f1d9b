"""The login success cache of one process (`caldav_bridge.accounts.Authenticator`).

A credential is known by an HMAC of login, password and the stored credentials' fingerprint,
under a key that never leaves this process: the cache holds no password, and a password
change, a new or revoked app password or a deactivation (which change the fingerprint) miss
it at once. Two things are remembered, each for the time of the check that proved them:

- ``checked``: this credential matched (from whichever address): no argon2 again.
- ``passed``: this address sent it and the throttle let it through, and the address has sent
  nothing else for that login since, in this process: it may skip the throttle. Any failure
  or refusal for that login from that address forgets it, so a guesser sharing the address
  (a NAT) cannot use a warm cache to test a guess the throttle would refuse.

Both are bounded in size, oldest forgotten first.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from collections import OrderedDict

CACHE_SIZE = 4096  # credentials, and (login, address) pairs
PER_PAIR = 4  # credentials remembered per (login, address): a few devices behind one NAT


class SuccessCache:
    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._checked: OrderedDict[str, float] = OrderedDict()  # digest -> expiry
        self._passed: OrderedDict[tuple[str, str], dict[str, float]] = OrderedDict()

    def digest(self, login: str, password: str, fingerprint: str) -> str:
        message = "\0".join((login, password, fingerprint)).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def checked(self, digest: str, moment: float) -> float | None:
        """When the check of this credential stops counting, if it has not yet."""
        with self._lock:
            expiry = self._checked.get(digest)
        return expiry if expiry is not None and moment < expiry else None

    def passed(self, login: str, address: str, digest: str, moment: float) -> bool:
        """True if ``address`` proved this credential for ``login`` and sent nothing else."""
        with self._lock:
            expiry = self._passed.get((login, address), {}).get(digest)
        return expiry is not None and moment < expiry

    def remember(self, login: str, address: str, digest: str, expiry: float) -> None:
        """A success of ``login`` from ``address``, whose check counts until ``expiry``."""
        with self._lock:
            self._checked.pop(digest, None)
            self._checked[digest] = expiry
            _bound(self._checked)
            passed = self._passed.pop((login, address), {})
            passed.pop(digest, None)
            passed[digest] = expiry
            while len(passed) > PER_PAIR:
                del passed[next(iter(passed))]
            self._passed[(login, address)] = passed
            _bound(self._passed)

    def forget(self, login: str, address: str) -> None:
        """``address`` sent ``login`` something that did not succeed."""
        with self._lock:
            self._passed.pop((login, address), None)


def _bound(table: OrderedDict[str, float] | OrderedDict[tuple[str, str], dict[str, float]]) -> None:
    while len(table) > CACHE_SIZE:
        table.popitem(last=False)

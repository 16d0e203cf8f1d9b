"""Account use-cases: provisioning logins, passwords, per-device app passwords, logging in.

Main passwords are hashed with argon2id (`caldav_bridge.passwords`). App passwords are
generated here with about 92 random bits, shown once, and kept as a SHA-256 digest: a secret
that cannot be guessed needs no slow hash, and checking a login against all of a therapist's
devices then costs one argon2 verification (the main password's), never one per device.

`Authenticator` is what calendar apps (`radicale_plugin.auth`) and the web logins log in
through, each with its own: throttled (`caldav_bridge.login_throttle`, its memory in the
store, shared by every process), with a short success cache in the process, keyed on the
credentials as stored, which are read again on every request; see its docstring.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from caldav_bridge.client_address import client_key
from caldav_bridge.config import Config
from caldav_bridge.errors import LoginError
from caldav_bridge.login_attempts import Attempt, LoginThrottle
from caldav_bridge.login_cache import SuccessCache
from caldav_bridge.login_throttle import Decision, Scope, Verdict
from caldav_bridge.passwords import (
    MAX_LENGTH,
    check_acceptable,
    generate_password,
    hash_password,
    verify_password,
)
from caldav_bridge.store import AppPassword, Store, Tx, User
from caldav_bridge.store.users import Role

ADMIN = "admin"
MAX_LOGIN_LENGTH = 64
MAX_LABEL_LENGTH = 100
DIGEST_PREFIX = "sha256:"
SUCCESS_CACHE_SECONDS = 60.0
THROTTLE_KEY_LABEL = b"caldav-bridge login throttle"


@dataclass(frozen=True)
class Provisioned:
    """What `provision_accounts` did, for the CLI to report."""

    admin_password: str | None  # set when it was generated or given now
    created: tuple[str, ...]


def provision_accounts(
    store: Store, config: Config, admin_password: str | None = None
) -> Provisioned:
    """Ensure the admin and every configured therapist have a login.

    The admin gets ``admin_password`` or, if it has none yet, a generated one (returned once).
    Therapists are created without a password: the admin or `passwd` sets it.
    """
    if admin_password is not None:
        check_acceptable(admin_password)
    created: list[str] = []
    with store.write() as tx:
        for login, role in [(ADMIN, "admin"), *((t, "therapist") for t in config.therapists)]:
            if tx.user(login) is None:
                created.append(login)
            tx.ensure_user(login, role)  # type: ignore[arg-type]
        admin = tx.user(ADMIN)
        assert admin is not None
        if admin_password is None and admin.password_hash is None:
            admin_password = generate_password()
        if admin_password is not None:
            tx.set_password_hash(ADMIN, hash_password(admin_password))
            tx.audit("cli", "password.set", ADMIN)
    return Provisioned(admin_password=admin_password, created=tuple(created))


def set_password(store: Store, login: str, password: str, actor: str) -> None:
    """Set ``login``'s password (after checking it is acceptable); applies at once everywhere."""
    check_acceptable(password)
    hashed = hash_password(password)  # outside the transaction: argon2 is slow on purpose
    with store.write() as tx:
        tx.set_password_hash(login, hashed)
        tx.audit(actor, "password.set", login)


def require_user(store: Store, login: str) -> User:
    with store.read() as tx:
        user = tx.user(login)
    if user is None:
        raise LoginError(f"no login {login!r}; known logins are created by `caldav-bridge init`")
    return user


# -- app passwords ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAppPassword:
    """A created app password: ``secret`` is shown to the therapist once and never stored."""

    id: int
    label: str
    secret: str


@dataclass(frozen=True)
class AppPasswordInfo:
    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None


def create_app_password(store: Store, login: str, label: str, actor: str) -> NewAppPassword:
    """A new app password for one device of ``login``, e.g. label "iPhone"."""
    label = " ".join(label.split())
    if not label or len(label) > MAX_LABEL_LENGTH:
        raise LoginError(f"a device name needs 1 to {MAX_LABEL_LENGTH} characters")
    secret = generate_password()
    with store.write() as tx:
        found = tx.user(login)
        if found is None or not found.active:
            raise LoginError(f"no active login {login!r}")
        password_id = tx.add_app_password(login, label, app_password_digest(secret))
        tx.audit(actor, "app_password.create", login, f"id={password_id}")
    return NewAppPassword(id=password_id, label=label, secret=secret)


def list_app_passwords(store: Store, login: str) -> list[AppPasswordInfo]:
    """``login``'s live app passwords (never their digests)."""
    with store.read() as tx:
        found = tx.app_passwords(login)
    return [AppPasswordInfo(p.id, p.label, p.created_at, p.last_used_at) for p in found]


def revoke_app_password(store: Store, login: str, password_id: int, actor: str) -> bool:
    """Revoke one of ``login``'s app passwords; it stops working with the next request."""
    with store.write() as tx:
        done = tx.revoke_app_password(login, password_id)
        if done:
            tx.audit(actor, "app_password.revoke", login, f"id={password_id}")
    return done


def app_password_digest(secret: str) -> str:
    return DIGEST_PREFIX + hashlib.sha256(secret.encode()).hexdigest()


def _app_password_matches(stored: str, secret: str) -> bool:
    if stored.startswith(DIGEST_PREFIX):
        return hmac.compare_digest(stored, app_password_digest(secret))
    return verify_password(stored, secret)  # an argon2 hash, if one was ever stored


# -- logging in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credentials:
    """What a login is checked against, read afresh for every attempt."""

    user: User | None  # None: unknown or deactivated
    app_passwords: tuple[AppPassword, ...]

    @property
    def fingerprint(self) -> str:
        """Changes whenever the password, an app password or the user's state changes."""
        if self.user is None:
            return "none"
        parts = [str(self.user.id), self.user.password_hash or ""]
        parts += [f"{p.id}:{p.password_hash}" for p in self.app_passwords]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    retry_after: int = 0  # seconds; set when the throttle refused the attempt unchecked
    checked: bool = True  # False: refused without checking (throttled, or known wrong)

    @property
    def throttled(self) -> bool:
        return self.retry_after > 0


def authenticate(store: Store, login: str, password: str) -> User | None:
    """The active user whose password or a live app password matches, else None.

    Unthrottled and uncached: for the command line and tests. An unknown login costs one
    argon2 verification like a known one.
    """
    credentials = read_credentials(store, login)
    matched, _app_id = _verify(credentials, password)
    return credentials.user if matched else None


def read_credentials(store: Store, login: str) -> Credentials:
    with store.read() as tx:
        return credentials_in(tx, login)


def credentials_in(tx: Tx, login: str) -> Credentials:
    if not login or len(login) > MAX_LOGIN_LENGTH:
        return Credentials(None, ())
    user = tx.user(login)
    if user is None or not user.active:
        return Credentials(None, ())
    return Credentials(user, tuple(tx.app_passwords(login)))


def _refused(decision: Decision) -> LoginResult:
    """The answer to an attempt the throttle refused unchecked."""
    if decision.verdict is Verdict.THROTTLED:
        return LoginResult(None, retry_after=max(1, math.ceil(decision.retry_after)), checked=False)
    return LoginResult(None, checked=False)  # known wrong


def _verify(credentials: Credentials, password: str) -> tuple[bool, int | None]:
    """(matched, id of the matching app password); exactly one argon2 verification."""
    user = credentials.user
    if len(password) > MAX_LENGTH:
        return False, None  # can never have been set; the caller's constant time pads this
    main = verify_password(user.password_hash if user else None, password)
    if main:
        return True, None
    for app_password in credentials.app_passwords:
        if _app_password_matches(app_password.password_hash, password):
            return True, app_password.id
    return False, None


class Authenticator:
    """Logins from calendar apps or the web: throttled, one argon2 per check, briefly cached.

    Every attempt reads the credentials from the store in one short read transaction, which
    also reads the throttle's memory unless the success cache answers first
    (`caldav_bridge.login_cache`: a success is remembered for ``cache_seconds``; a password
    change, app password or deactivation, made by any process, misses it at once).

    The throttle (`caldav_bridge.login_attempts`) counts the attempts of this ``scope`` in the
    store, shared by every process. It knows a credential by a digest keyed from
    ``secret_key`` (the deployment's, the same in every process), so a wrong password sent to
    several processes is known wrong in all of them; the password is never stored.
    """

    def __init__(
        self,
        store: Store,
        secret_key: str,
        scope: Scope = Scope.CALDAV,
        *,
        cache_seconds: float = SUCCESS_CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.throttle = LoginThrottle(scope)
        self.cache_seconds = cache_seconds
        self.monotonic = monotonic
        self._cache = SuccessCache()
        self._throttle_key = hmac.new(secret_key.encode(), THROTTLE_KEY_LABEL, "sha256").digest()
        self._lock = threading.Lock()
        self._roles: dict[str, Role] = {}

    def login(self, login: str, password: str, address: str | None) -> LoginResult:
        client, moment = client_key(address), self.monotonic()
        with self.store.read() as tx:
            credentials = credentials_in(tx, login)
            cached = self._cache.digest(login, password, credentials.fingerprint)
            if credentials.user is not None and self._cache.passed(login, client, cached, moment):
                return LoginResult(credentials.user)  # no throttle query, no argon2
            attempt = Attempt(login, client, self._credential(login, password, credentials))
            now = self.store.clock()
            decision = self.throttle.decide(tx, attempt, now)
        if decision.verdict is not Verdict.VERIFY:
            self._cache.forget(login, client)
            return _refused(decision)
        checked = self._cache.checked(cached, moment) if credentials.user is not None else None
        matched, app_id = (True, None) if checked is not None else _verify(credentials, password)
        if not matched or credentials.user is None:
            self._cache.forget(login, client)
            with self.store.write() as tx:
                self.throttle.failed(tx, attempt, now)
            return LoginResult(None)
        with self.store.write() as tx:
            self.throttle.succeeded(tx, attempt, now)
            if app_id is not None:
                tx.touch_app_password(app_id)
        expiry = checked if checked is not None else moment + self.cache_seconds
        self._cache.remember(login, client, cached, expiry)
        with self._lock:
            self._roles[credentials.user.login] = credentials.user.role
        return LoginResult(credentials.user)

    def role_of(self, login: str) -> Role | None:
        """The role of a login that logged in through this authenticator (else the store's)."""
        with self._lock:
            role = self._roles.get(login)
        if role is not None:
            return role
        with self.store.read() as tx:
            user = tx.user(login)
        return user.role if user is not None and user.active else None

    def _credential(self, login: str, password: str, credentials: Credentials) -> str:
        """What the throttle knows a credential by, the same in every process."""
        message = "\0".join((login, password, credentials.fingerprint))
        encoded = message.encode("utf-8", "surrogatepass")
        return hmac.new(self._throttle_key, encoded, hashlib.sha256).hexdigest()

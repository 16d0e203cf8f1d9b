"""The login success cache: argon2 once a minute per device, and never a stale success.

In-process, an `Authenticator` on one store handle while the changes come through another
(as from another process), counting the argon2 verifications it makes; then the real server
while `caldav-bridge passwd` changes the password from another process. SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

import caldav_bridge.accounts
import caldav_bridge.passwords
from caldav_bridge.accounts import (
    Authenticator,
    create_app_password,
    revoke_app_password,
    set_password,
)
from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.serve import run_cli, serving

PASSWORD = "anne-password-1"
ADDRESS = "192.0.2.10"
SECRET = "test-secret-key"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def argon2_checks(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Every argon2 verification the accounts module makes (the real one still runs)."""
    checks: list[str | None] = []
    real = caldav_bridge.passwords.verify_password

    def counted(password_hash: str | None, password: str) -> bool:
        checks.append(password_hash)
        return real(password_hash, password)

    monkeypatch.setattr(caldav_bridge.accounts, "verify_password", counted)
    return checks


@pytest.fixture
def elsewhere(database_url: str, store: Store) -> Iterator[Store]:
    """A second handle on the same database: what another process would change it through."""
    with store.write() as tx:
        tx.ensure_user("anne", "therapist")
    set_password(store, "anne", PASSWORD, actor="test")
    other = Store.connect(database_url)
    yield other
    other.close()


def test_a_success_is_remembered_for_a_minute(
    store: Store, elsewhere: Store, argon2_checks: list[str | None]
) -> None:
    clock = Clock()
    authenticator = Authenticator(store, SECRET, monotonic=clock)
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    assert len(argon2_checks) == 1
    for _ in range(5):
        clock.now += 10
        assert authenticator.login("anne", PASSWORD, "198.51.100.7").user is not None
    assert len(argon2_checks) == 1
    clock.now += 15  # 65 s after the check
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    assert len(argon2_checks) == 2
    assert authenticator.login("anne", "not her password", ADDRESS).user is None
    assert len(argon2_checks) == 3  # a cached success is no shortcut for another password


def test_a_password_changed_elsewhere_applies_at_once(
    store: Store, elsewhere: Store, argon2_checks: list[str | None]
) -> None:
    authenticator = Authenticator(store, SECRET, monotonic=Clock())
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    set_password(elsewhere, "anne", "anne-password-2", actor="admin")
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is None
    assert authenticator.login("anne", "anne-password-2", ADDRESS).user is not None


def test_a_deactivation_elsewhere_applies_at_once(store: Store, elsewhere: Store) -> None:
    authenticator = Authenticator(store, SECRET, monotonic=Clock())
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    with elsewhere.write() as tx:
        tx.set_active("anne", False)
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is None
    with elsewhere.write() as tx:
        tx.set_active("anne", True)
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None


def test_app_passwords_revoked_elsewhere_stop_at_once(
    store: Store, elsewhere: Store, argon2_checks: list[str | None]
) -> None:
    authenticator = Authenticator(store, SECRET, monotonic=Clock())
    phone = create_app_password(elsewhere, "anne", "iPhone", actor="anne")
    tablet = create_app_password(elsewhere, "anne", "iPad", actor="anne")
    assert authenticator.login("anne", phone.secret, ADDRESS).user is not None
    assert authenticator.login("anne", tablet.secret, ADDRESS).user is not None
    assert len(argon2_checks) == 2  # one per login (the main password's), never per device
    assert revoke_app_password(elsewhere, "anne", phone.id, actor="anne")
    assert authenticator.login("anne", phone.secret, ADDRESS).user is None
    assert authenticator.login("anne", tablet.secret, ADDRESS).user is not None
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None


@pytest.fixture
def throttle_statements(store: Store) -> Iterator[list[str]]:
    """The SQL statements the store runs from now on that name a login throttle table."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        if "login_failures" in statement or "login_known_addresses" in statement:
            seen.append(statement.split(None, 1)[0].upper())

    sa.event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(store.engine, "before_cursor_execute", record)


def test_a_cached_success_from_the_same_address_costs_the_throttle_nothing(
    store: Store, elsewhere: Store, throttle_statements: list[str]
) -> None:
    """An uncached attempt reads the throttle's memory with one query and records its
    outcome with one write (plus a bounded prune); a device syncing again within the minute
    touches none of it. The same password from another address is decided by the throttle."""
    clock = Clock()
    authenticator = Authenticator(store, SECRET, monotonic=clock)
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    assert throttle_statements == ["SELECT", "INSERT", "DELETE"]
    throttle_statements.clear()
    for _ in range(5):
        clock.now += 10
        assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    assert throttle_statements == []
    assert authenticator.login("anne", PASSWORD, "198.51.100.7").user is not None
    assert throttle_statements == ["SELECT", "INSERT", "DELETE"]
    throttle_statements.clear()
    assert authenticator.login("anne", "not her password", ADDRESS).user is None
    assert throttle_statements == ["SELECT", "INSERT", "DELETE"]


def test_a_warm_cache_answers_no_guess_from_a_throttled_address(
    store: Store, elsewhere: Store
) -> None:
    """A guesser behind the therapist's address (one NAT) gets no answer from her cached
    success: once the address fails on her login, even her password waits for the throttle."""
    authenticator = Authenticator(store, SECRET, monotonic=Clock())
    assert authenticator.login("anne", PASSWORD, ADDRESS).user is not None
    for n in range(5):
        assert authenticator.login("anne", f"guess {n}", ADDRESS).user is None
    assert authenticator.login("anne", PASSWORD, ADDRESS).throttled
    assert authenticator.login("anne", PASSWORD, "198.51.100.7").user is not None


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {DATABASE_URL_ENV: ""}
    return {DATABASE_URL_ENV: str(request.getfixturevalue("postgres_url"))}


def test_the_server_applies_a_password_set_by_another_process_at_once(
    practice_toml: Path, database_env: dict[str, str], tmp_path: Path
) -> None:
    config = ["--config", str(practice_toml)]
    init = run_cli(*config, "init", "--demo", env=database_env)
    assert init.returncode == 0, init.stderr
    (old,) = [
        line.split(" / ")[1] for line in init.stdout.splitlines() if "Demo login: anne" in line
    ]
    new_file = tmp_path / "new-password"
    new_file.write_text("a brand new password\n")

    with serving(practice_toml, database_env) as base_url:

        def status(password: str) -> int:
            token = base64.b64encode(f"anne:{password}".encode()).decode()
            headers = {"Authorization": f"Basic {token}", "Depth": "0"}
            return requests.request(
                "PROPFIND", f"{base_url}/dav/anne/", headers=headers, timeout=30
            ).status_code

        assert [status(old) for _ in range(3)] == [207, 207, 207]  # the cache is warm
        changed = run_cli(
            *config, "passwd", "anne", "--password-file", str(new_file), env=database_env
        )
        assert changed.returncode == 0, changed.stderr
        assert status(old) == 401
        assert status("a brand new password") == 207

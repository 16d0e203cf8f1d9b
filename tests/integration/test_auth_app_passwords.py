"""Per-device app passwords over real CalDAV (`caldav` client, `caldav-bridge serve`).

The therapist space (issue 7) will call these use-cases; here the test process calls them on
its own store handle while the server runs in another process, as the web app would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import caldav
import pytest
from caldav.lib.error import AuthorizationError

from caldav_bridge.accounts import (
    authenticate,
    create_app_password,
    list_app_passwords,
    revoke_app_password,
)
from caldav_bridge.config_loader import load_config
from caldav_bridge.errors import LoginError
from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV, database_url
from tests.support.serve import run_cli, serving


@dataclass(frozen=True)
class Demo:
    base_url: str
    store: Store  # the test's own handle on the server's database
    passwords: dict[str, str]

    def calendars(self, login: str, password: str) -> list[str]:
        with caldav.DAVClient(url=self.base_url + "/", username=login, password=password) as c:
            return sorted(str(calendar.url) for calendar in c.principal().calendars())


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {DATABASE_URL_ENV: ""}
    return {DATABASE_URL_ENV: str(request.getfixturevalue("postgres_url"))}


@pytest.fixture
def demo(practice_toml: Path, database_env: dict[str, str]) -> Iterator[Demo]:
    init = run_cli("--config", str(practice_toml), "init", "--demo", env=database_env)
    assert init.returncode == 0, init.stderr
    passwords = dict(
        line.removeprefix("Demo login: ").split(" / ")
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: ")
    )
    server = load_config(practice_toml).server
    store = Store.connect(database_url(server.database_url, server.data_dir, database_env))
    with serving(practice_toml, database_env) as base_url:
        yield Demo(base_url, store, passwords)
    store.close()


def test_an_app_password_opens_the_calendars_until_it_is_revoked(demo: Demo) -> None:
    phone = create_app_password(demo.store, "anne", "  iPhone   de Anne ", actor="anne")
    laptop = create_app_password(demo.store, "anne", "Thunderbird", actor="anne")
    assert phone.label == "iPhone de Anne"
    assert phone.secret != laptop.secret

    calendars = demo.calendars("anne", phone.secret)
    assert calendars == [f"{demo.base_url}/dav/anne/appointments/"]
    assert demo.calendars("anne", laptop.secret) == calendars
    assert demo.calendars("anne", demo.passwords["anne"]) == calendars  # the main one too

    listed = {p.label: p for p in list_app_passwords(demo.store, "anne")}
    assert sorted(listed) == ["Thunderbird", "iPhone de Anne"]
    assert listed["iPhone de Anne"].last_used_at is not None

    assert revoke_app_password(demo.store, "anne", phone.id, actor="anne")
    with pytest.raises(AuthorizationError):
        demo.calendars("anne", phone.secret)  # at once: no cache outlives a revocation
    assert demo.calendars("anne", laptop.secret) == calendars
    assert [p.label for p in list_app_passwords(demo.store, "anne")] == ["Thunderbird"]


def test_an_app_password_is_only_its_owners(demo: Demo) -> None:
    phone = create_app_password(demo.store, "anne", "iPhone", actor="anne")
    with pytest.raises(AuthorizationError):
        demo.calendars("marc", phone.secret)
    assert not revoke_app_password(demo.store, "marc", phone.id, actor="marc")
    assert demo.calendars("anne", phone.secret) == [f"{demo.base_url}/dav/anne/appointments/"]


def test_the_secret_is_shown_once_and_never_stored(demo: Demo) -> None:
    phone = create_app_password(demo.store, "anne", "iPhone", actor="anne")
    with demo.store.read() as tx:
        (stored,) = tx.app_passwords("anne")
        actions = [(e.actor, e.action, e.subject) for e in tx.audit_entries()]
    assert phone.secret not in stored.password_hash
    assert stored.password_hash.startswith("sha256:")
    assert ("anne", "app_password.create", "anne") in actions
    assert authenticate(demo.store, "anne", phone.secret) is not None


@pytest.mark.parametrize("label", ["", "   ", "x" * 101])
def test_a_device_needs_a_name(store: Store, label: str) -> None:
    with store.write() as tx:
        tx.ensure_user("anne", "therapist")
    with pytest.raises(LoginError, match="device name"):
        create_app_password(store, "anne", label, actor="anne")


def test_a_deactivated_login_gets_no_app_password(store: Store) -> None:
    with store.write() as tx:
        tx.ensure_user("anne", "therapist")
        tx.set_active("anne", False)
    with pytest.raises(LoginError, match="no active login"):
        create_app_password(store, "anne", "iPhone", actor="admin")

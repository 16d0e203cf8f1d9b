"""The `caldav-bridge` command line, run as an operator runs it (the installed console script)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from caldav_bridge.accounts import authenticate
from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV, SQLITE_FILE
from caldav_bridge.store.migrate import head_revision
from tests.support.databases import admin_execute, with_database
from tests.support.serve import run_cli


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request: pytest.FixtureRequest, practice_toml: Path) -> Iterator[dict[str, str]]:
    """The environment for a database that `init` has not touched yet, on each database."""
    if request.param == "sqlite":
        yield {DATABASE_URL_ENV: ""}
        return
    admin_url = str(request.getfixturevalue("postgres_admin_url"))
    name = f"cb_init_{abs(hash(str(practice_toml))) % 10**12}"
    admin_execute(admin_url, f"CREATE DATABASE {name}")
    yield {DATABASE_URL_ENV: with_database(admin_url, name)}
    admin_execute(admin_url, f"DROP DATABASE {name} WITH (FORCE)")


def store_for(practice_toml: Path, env: dict[str, str]) -> Store:
    url = env[DATABASE_URL_ENV] or f"sqlite:///{practice_toml.parent.parent / 'var' / SQLITE_FILE}"
    return Store.connect(url)


def field(output: str, prefix: str) -> str:
    """The password after "<prefix> / " in the CLI's output."""
    for line in output.splitlines():
        if line.startswith(prefix):
            return line.split(" / ", 1)[1].split()[0]
    raise AssertionError(f"{prefix!r} not in:\n{output}")


def test_check_config_summarises_a_good_file(practice_toml: Path) -> None:
    result = run_cli("--config", str(practice_toml), "check-config")
    assert result.returncode == 0, result.stderr
    assert "OK: practice 'Cabinet du Lac', 2 therapists (anne, marc)" in result.stdout
    assert "3 active services (seance-75, seance-75-flex, suivi-45)" in result.stdout


def test_check_config_reads_the_environment_variable(practice_toml: Path) -> None:
    result = run_cli("check-config", env={"CALDAV_BRIDGE_CONFIG": str(practice_toml)})
    assert result.returncode == 0, result.stderr
    assert str(practice_toml) in result.stdout


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        (
            'duration_minutes = 75\navailability = "fixed"',
            'duraton_minutes = 75\navailability = "fixed"',
            "services.seance-75.duraton_minutes",
        ),
        (
            "duration_minutes = 45",
            'duration_minutes = "fifty"',
            "services.suivi-45.duration_minutes",
        ),
        ('timezone = "Europe/Zurich"', 'timezone = "Mars/Olympus"', "practice.timezone"),
        (
            'wednesday = ["14:00-18:00"]',
            'wednesday = ["18:00-14:00"]',
            "therapists.anne.hours.wednesday[0]",
        ),
        ('therapists = ["anne"]', 'therapists = ["paul"]', "services.seance-75-flex.therapists"),
    ],
)
def test_check_config_refuses_a_bad_file_with_status_2_and_writes_nothing(
    practice_toml: Path, old: str, new: str, key: str
) -> None:
    text = practice_toml.read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    practice_toml.write_text(bad, encoding="utf-8")
    before = sorted(p.name for p in practice_toml.parent.parent.iterdir())

    result = run_cli("--config", str(practice_toml), "check-config")

    assert result.returncode == 2
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"caldav-bridge: configuration error: {practice_toml}: {key}: ")
    assert practice_toml.read_text(encoding="utf-8") == bad
    assert sorted(p.name for p in practice_toml.parent.parent.iterdir()) == before


def test_init_creates_the_practice_and_shows_the_admin_password_once(
    practice_toml: Path, empty_database: dict[str, str]
) -> None:
    first = run_cli("--config", str(practice_toml), "init", env=empty_database)
    assert first.returncode == 0, first.stderr
    assert "Logins created: admin, anne, marc." in first.stdout
    admin_password = field(first.stdout, "Admin login: admin")

    again = run_cli("--config", str(practice_toml), "init", env=empty_database)
    assert again.returncode == 0, again.stderr
    assert admin_password not in again.stdout
    assert "its password is unchanged" in again.stdout

    store = store_for(practice_toml, empty_database)
    assert authenticate(store, "admin", admin_password) is not None
    assert authenticate(store, "anne", admin_password) is None  # no password until one is set
    store.close()


def test_init_demo_sets_therapist_passwords_that_work(
    practice_toml: Path, empty_database: dict[str, str]
) -> None:
    result = run_cli("--config", str(practice_toml), "init", "--demo", env=empty_database)
    assert result.returncode == 0, result.stderr
    anne, marc = field(result.stdout, "Demo login: anne"), field(result.stdout, "Demo login: marc")
    store = store_for(practice_toml, empty_database)
    assert authenticate(store, "anne", anne) is not None
    assert authenticate(store, "marc", marc) is not None
    assert authenticate(store, "anne", marc) is None
    store.close()


def test_init_reads_the_admin_password_from_a_file(practice_toml: Path, tmp_path: Path) -> None:
    secret = tmp_path / "admin-password"
    secret.write_text("a long admin passphrase\n", encoding="utf-8")
    result = run_cli("--config", str(practice_toml), "init", "--admin-password-file", str(secret))
    assert result.returncode == 0, result.stderr
    assert "a long admin passphrase" not in result.stdout
    store = store_for(practice_toml, {DATABASE_URL_ENV: ""})
    assert authenticate(store, "admin", "a long admin passphrase") is not None
    store.close()


def test_passwd_sets_a_password_and_refuses_bad_ones(practice_toml: Path, tmp_path: Path) -> None:
    assert run_cli("--config", str(practice_toml), "init").returncode == 0
    good, short = tmp_path / "good", tmp_path / "short"
    good.write_text("correct horse battery staple", encoding="utf-8")
    short.write_text("tiny", encoding="utf-8")

    ok = run_cli("--config", str(practice_toml), "passwd", "marc", "--password-file", str(good))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "Password set for marc."

    weak = run_cli("--config", str(practice_toml), "passwd", "marc", "--password-file", str(short))
    assert weak.returncode == 1
    assert weak.stderr.strip() == "caldav-bridge: a password needs at least 10 characters"

    nobody = run_cli("--config", str(practice_toml), "passwd", "paul", "--password-file", str(good))
    assert nobody.returncode == 1
    assert "no login 'paul'" in nobody.stderr

    store = store_for(practice_toml, {DATABASE_URL_ENV: ""})
    assert authenticate(store, "marc", "correct horse battery staple") is not None
    store.close()


def test_passwd_prompts_twice_and_refuses_a_mismatch(practice_toml: Path) -> None:
    assert run_cli("--config", str(practice_toml), "init").returncode == 0
    # getpass reads from the terminal when there is one; CI has none, so it reads stdin.
    result = run_cli(
        "--config",
        str(practice_toml),
        "passwd",
        "anne",
        stdin="first passphrase\nother passphrase\n",
    )
    assert result.returncode == 1
    assert "the two passwords differ; nothing changed" in result.stderr


def test_db_current_and_upgrade(practice_toml: Path) -> None:
    before = run_cli("--config", str(practice_toml), "db", "current")
    assert before.returncode == 0, before.stderr
    assert "Schema revision: none (empty database)" in before.stdout
    upgraded = run_cli("--config", str(practice_toml), "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    head = head_revision()
    assert f"Schema revision: {head} (newest: {head})" in upgraded.stdout

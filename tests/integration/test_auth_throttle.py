"""Login throttling over CalDAV, against the real `caldav-bridge serve`, SQLite and PostgreSQL.

Clients come from different loopback addresses (127.0.0.x) so the server sees them apart.
Two `serve` processes on one database share one budget (the throttle's memory is the
store's). The decision is unit-tested in tests/unit/test_login_throttle.py, every rule
through the store in tests/integration/test_login_throttle_store.py.
"""

from __future__ import annotations

import base64
import http.client
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.serve import run_cli, serving

ATTACKER = "127.0.0.2"
THERAPIST = "127.0.0.3"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]


@dataclass(frozen=True)
class Demo:
    base_url: str
    passwords: dict[str, str]

    def propfind(self, login: str, password: str, source: str = "127.0.0.1") -> Answer:
        url = urlsplit(self.base_url)
        assert url.hostname is not None
        connection = http.client.HTTPConnection(
            url.hostname, url.port, timeout=60, source_address=(source, 0)
        )
        token = base64.b64encode(f"{login}:{password}".encode()).decode()
        try:
            connection.request(
                "PROPFIND",
                f"/dav/{login}/",
                headers={"Authorization": f"Basic {token}", "Depth": "0"},
            )
            response = connection.getresponse()
            response.read()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()})
        finally:
            connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {DATABASE_URL_ENV: ""}
    return {DATABASE_URL_ENV: str(request.getfixturevalue("postgres_url"))}


def demo_passwords(practice_toml: Path, database_env: dict[str, str]) -> dict[str, str]:
    init = run_cli("--config", str(practice_toml), "init", "--demo", env=database_env)
    assert init.returncode == 0, init.stderr
    return dict(
        line.removeprefix("Demo login: ").split(" / ")
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: ")
    )


@pytest.fixture
def demo(practice_toml: Path, database_env: dict[str, str]) -> Iterator[Demo]:
    passwords = demo_passwords(practice_toml, database_env)
    with serving(practice_toml, database_env) as base_url:
        yield Demo(base_url, passwords)


@pytest.fixture
def two_processes(practice_toml: Path, database_env: dict[str, str]) -> Iterator[list[Demo]]:
    """Two `serve` processes of the demo practice on one database."""
    passwords = demo_passwords(practice_toml, database_env)
    with ExitStack() as stack:
        urls = [
            stack.enter_context(serving(practice_toml, database_env, extra=["--no-watcher"]))
            for _ in range(2)
        ]
        yield [Demo(url, passwords) for url in urls]


def test_guesses_are_refused_after_five_and_the_therapist_still_gets_in(demo: Demo) -> None:
    answers = [demo.propfind("anne", f"guess number {n}", ATTACKER) for n in range(20)]

    assert [a.status for a in answers] == [401] * 5 + [429] * 15
    assert "www-authenticate" in answers[0].headers
    for throttled in answers[5:]:
        assert "www-authenticate" not in throttled.headers  # no password prompt
        assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    # Even the right password is not checked from the throttled address...
    assert demo.propfind("anne", demo.passwords["anne"], ATTACKER).status == 429
    # ...while anne, from her own address, logs in as always; marc is not affected at all.
    assert demo.propfind("anne", demo.passwords["anne"], THERAPIST).status == 207
    assert demo.propfind("marc", demo.passwords["marc"], ATTACKER).status == 207


def test_the_server_stays_responsive_under_throttled_guessing(demo: Demo) -> None:
    for n in range(5):
        assert demo.propfind("anne", f"guess {n}", ATTACKER).status == 401

    def guess(n: int) -> int:
        return demo.propfind("anne", f"parallel guess {n}", ATTACKER).status

    with ThreadPoolExecutor(max_workers=16) as pool:
        attack = [pool.submit(guess, n) for n in range(64)]
        therapist = pool.submit(demo.propfind, "anne", demo.passwords["anne"], THERAPIST)
        statuses = [future.result() for future in attack]
    assert therapist.result().status == 207
    assert set(statuses) == {429}


def test_a_device_with_an_outdated_password_does_not_lock_out_its_address(demo: Demo) -> None:
    """The same wrong password again and again is answered 401 and never counted twice."""
    for _ in range(12):
        assert demo.propfind("anne", "last year's password", THERAPIST).status == 401
    assert demo.propfind("anne", demo.passwords["anne"], THERAPIST).status == 207


def test_an_unknown_login_is_answered_like_a_known_one(demo: Demo) -> None:
    """Same statuses, same headers: the throttle gives away no list of logins."""
    unknown = [demo.propfind("nobody", f"guess {n}", ATTACKER).status for n in range(6)]
    known = [demo.propfind("marc", f"guess {n}", ATTACKER).status for n in range(6)]
    assert unknown == known == [401] * 5 + [429]


def test_two_processes_count_guesses_together(two_processes: list[Demo]) -> None:
    """A guesser spreading attempts over the processes of a scale-out gets no more guesses,
    and a device with an outdated password is not counted once per process."""
    one, two = two_processes
    password = one.passwords["anne"]
    guesses = [two_processes[n % 2].propfind("anne", f"guess {n}", ATTACKER) for n in range(5)]
    assert [a.status for a in guesses] == [401] * 5
    refused = [one.propfind("anne", password, ATTACKER), two.propfind("anne", password, ATTACKER)]
    assert [a.status for a in refused] == [429, 429]
    # Three typos, then an old phone through both processes: 4 failures, not 5.
    typos = [
        demo.propfind("anne", f"typo {n}", THERAPIST) for n, demo in enumerate((one, two, one))
    ]
    outdated = [demo.propfind("anne", "last year's password", THERAPIST) for demo in (one, two) * 4]
    assert [a.status for a in typos + outdated] == [401] * 11
    assert one.propfind("anne", password, THERAPIST).status == 207
    assert two.propfind("anne", password, THERAPIST).status == 207

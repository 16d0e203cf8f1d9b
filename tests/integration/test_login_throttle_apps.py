"""One login budget for every process: two complete `serve` applications on one database.

Each application is what a `serve` process runs (`build_runtime` + `wsgi_app`: Radicale
under /dav/ and the Flask app), with its own store handle, success cache and secret-key read;
they share only the database, on SQLite and on PostgreSQL. Guesses made through either count
in both, for calendar apps (CalDAV) and for the web login alike, and each kind apart.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from werkzeug.test import Client, TestResponse

from bridge_server.commands import init
from bridge_server.dispatch import Dispatcher
from bridge_server.wsgi import build_runtime, wsgi_app
from caldav_bridge.accounts import set_password
from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.web import hidden_fields, location

PASSWORD = "anne-password-1"
ATTACKER = "203.0.113.66"
HOME = "192.0.2.10"
LOGIN_PAGE = "/therapist/login"


@dataclass(frozen=True)
class Process:
    """One `serve` process's application, driven as clients at different addresses would
    (each request from a new client: no cookies, no session)."""

    app: Dispatcher

    def propfind(self, password: str, address: str, login: str = "anne") -> int:
        token = base64.b64encode(f"{login}:{password}".encode()).decode()
        answer = Client(self.app).open(
            f"/dav/{login}/",
            method="PROPFIND",
            headers={"Authorization": f"Basic {token}", "Depth": "0"},
            environ_base={"REMOTE_ADDR": address},
        )
        return answer.status_code

    def web_login(self, password: str, address: str) -> TestResponse:
        browser = Client(self.app)
        page = browser.get(LOGIN_PAGE, environ_base={"REMOTE_ADDR": address})
        return browser.post(
            LOGIN_PAGE,
            data={**hidden_fields(page, LOGIN_PAGE), "login": "anne", "password": password},
            environ_base={"REMOTE_ADDR": address},
        )


@pytest.fixture
def processes(practice_toml: Path, database_url: str) -> Iterator[tuple[Process, Process]]:
    env = {DATABASE_URL_ENV: database_url}
    init(practice_toml, env, demo=False, admin_password=None)
    runtimes = [build_runtime(practice_toml, env) for _ in range(2)]
    set_password(runtimes[0].store, "anne", PASSWORD, actor="test")
    yield Process(wsgi_app(runtimes[0])), Process(wsgi_app(runtimes[1]))
    for runtime in runtimes:
        runtime.store.close()


def test_calendar_app_guesses_through_two_processes_share_one_budget(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    guesses = [(one, two)[n % 2].propfind(f"guess number {n}", ATTACKER) for n in range(5)]
    assert guesses == [401] * 5
    # The sixth attempt is refused unchecked by both, even with the right password...
    assert [one.propfind(PASSWORD, ATTACKER), two.propfind(PASSWORD, ATTACKER)] == [429, 429]
    # ... while anne, from her own address, gets in through both.
    assert [one.propfind(PASSWORD, HOME), two.propfind(PASSWORD, HOME)] == [207, 207]


def test_web_guesses_through_two_processes_share_one_budget(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    guesses = [(one, two)[n % 2].web_login(f"guess number {n}", ATTACKER) for n in range(5)]
    assert [answer.status_code for answer in guesses] == [422] * 5
    for process in (one, two):
        throttled = process.web_login(PASSWORD, ATTACKER)
        assert throttled.status_code == 429
        assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    for process in (one, two):
        assert location(process.web_login(PASSWORD, HOME)) == "/therapist/agenda"


def test_an_outdated_password_tried_through_both_processes_is_counted_once(
    processes: tuple[Process, Process],
) -> None:
    """A phone with last year's password, its requests spread over both processes, is
    counted once: after three typos from the same address, the right password still works
    (counted once per process, that would make the five failures that throttle it)."""
    one, two = processes
    typos = [process.propfind(f"typo {n}", HOME) for n, process in enumerate((one, two, one))]
    outdated = [process.propfind("last year's password", HOME) for process in processes * 6]
    assert typos + outdated == [401] * 15
    assert two.propfind(PASSWORD, HOME) == 207


def test_calendar_apps_and_web_logins_are_counted_apart(
    processes: tuple[Process, Process],
) -> None:
    one, two = processes
    assert [one.propfind(f"guess {n}", ATTACKER) for n in range(6)] == [401] * 5 + [429]
    assert location(two.web_login(PASSWORD, ATTACKER)) == "/therapist/agenda"
    assert two.propfind(PASSWORD, ATTACKER) == 429


def test_a_distributed_attack_through_both_processes_spares_the_therapists_address(
    processes: tuple[Process, Process],
) -> None:
    """50 guesses from 25 addresses, spread over both processes: a new address is refused
    even with the right password; the address anne logged in from before is not. (Through
    the web login: Radicale pads every failure to the slowest one, which costs time here.)"""
    one, two = processes
    assert location(one.web_login(PASSWORD, HOME)) == "/therapist/agenda"
    statuses = [
        (one, two)[n % 2].web_login(f"guess {n}", f"198.51.100.{n // 2}").status_code
        for n in range(50)
    ]
    assert statuses == [422] * 50
    for process in (one, two):
        assert process.web_login(PASSWORD, "198.51.100.99").status_code == 429
    assert location(two.web_login(PASSWORD, HOME)) == "/therapist/agenda"

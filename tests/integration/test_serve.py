"""`caldav-bridge serve`: the one-process server, as the README's demo command runs it."""

from __future__ import annotations

import base64
import http.client
import time
from collections.abc import Iterator
from pathlib import Path

import caldav
import pytest
import requests
from caldav.lib.error import AuthorizationError

from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.serve import health, run_cli, serving


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {DATABASE_URL_ENV: ""}
    return {DATABASE_URL_ENV: str(request.getfixturevalue("postgres_url"))}


@pytest.fixture
def demo(practice_toml: Path, database_env: dict[str, str]) -> Iterator[tuple[str, str]]:
    """A served demo practice: (base URL, anne's printed password)."""
    init = run_cli("--config", str(practice_toml), "init", "--demo", env=database_env)
    assert init.returncode == 0, init.stderr
    anne = next(
        line.split(" / ")[1]
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: anne")
    )
    with serving(practice_toml, database_env) as base_url:
        yield base_url, anne


def test_health_reports_database_and_watcher(demo: tuple[str, str]) -> None:
    base_url, _ = demo
    body = health(base_url)
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["config"] == "ok"
    # The watcher thread's first pass runs beside the first requests: wait for it (bounded).
    deadline = time.monotonic() + 30
    while body["watcher_last_pass"] is None and time.monotonic() < deadline:
        time.sleep(0.1)  # poll interval, bounded by the deadline
        body = health(base_url)
    assert isinstance(body["watcher_last_pass"], str)


@pytest.mark.parametrize("well_known", ["/.well-known/caldav", "/.well-known/carddav/"])
def test_well_known_redirects_to_the_dav_root(demo: tuple[str, str], well_known: str) -> None:
    base_url, _ = demo
    response = requests.request(
        "PROPFIND", base_url + well_known, allow_redirects=False, timeout=10
    )
    assert response.status_code == 301
    assert response.headers["Location"] == "/dav/"


def test_anne_logs_in_over_caldav_with_the_printed_password(demo: tuple[str, str]) -> None:
    base_url, password = demo
    with caldav.DAVClient(url=base_url + "/", username="anne", password=password) as client:
        principal = client.principal()  # discovery from the server's root URL
    assert str(principal.url) == f"{base_url}/dav/anne/"

    with (
        caldav.DAVClient(url=base_url + "/", username="anne", password="not-hers") as intruder,
        pytest.raises(AuthorizationError),
    ):
        intruder.principal()


def test_the_landing_page_names_the_practice(demo: tuple[str, str]) -> None:
    base_url, _ = demo
    response = requests.get(base_url + "/", timeout=10)
    assert response.status_code == 200
    assert "Cabinet du Lac" in response.text
    assert "Séance (75 min)" in response.text


def test_an_oversized_dav_request_is_refused_before_its_body_is_read(
    demo: tuple[str, str],
) -> None:
    base_url, password = demo
    host, port = base_url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.putrequest("PUT", "/dav/anne/appointments/big.ics")
        token = base64.b64encode(f"anne:{password}".encode()).decode()
        connection.putheader("Authorization", f"Basic {token}")
        connection.putheader("Content-Type", "text/calendar")
        connection.putheader("Content-Length", str(50 * 1024 * 1024))  # the demo allows 10 MiB
        connection.endheaders()  # and no body: the answer must not wait for it
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()
    assert health(base_url)["status"] == "ok"


def test_serve_refuses_a_bad_configuration_with_one_line(practice_toml: Path) -> None:
    text = practice_toml.read_text(encoding="utf-8")
    practice_toml.write_text(
        text.replace("duration_minutes = 45", "duration_minutes = 0"), encoding="utf-8"
    )
    result = run_cli("--config", str(practice_toml), "serve", "--port", "0")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "services.suivi-45.duration_minutes: 0 is out of range" in line


def test_serve_refuses_an_unreachable_database_with_one_line(practice_toml: Path) -> None:
    env = {DATABASE_URL_ENV: "postgresql://caldav:pw@127.0.0.1:9/caldav?connect_timeout=2"}
    result = run_cli("--config", str(practice_toml), "serve", "--port", "0", env=env)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("caldav-bridge: database error: cannot reach the database ")
    assert "pw@" not in line


def test_serve_refuses_a_database_that_was_never_initialised(practice_toml: Path) -> None:
    result = run_cli("--config", str(practice_toml), "serve", "--port", "0")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "caldav-bridge: database error: the database is empty; run `caldav-bridge init` first"
    )

"""POST /api/v1/bookings: the booking page's code path as JSON, on SQLite and PostgreSQL.

Exact bodies for 201, 409, 422 and 400; the manage_url it returns works; the rate limit is
shared with the pages and, through the database, with every other process; and twenty
patients racing for one slot through two real `caldav-bridge serve` processes get one booking.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from caldav_bridge.ical import load_calendar
from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.calendars import event, put_ics
from tests.support.serve import run_cli, serving
from tests.support.web import NOW, WebApp, configure, element, web_app

BODY: dict[str, Any] = {
    "service": "seance-75",
    "therapist": "anne",
    "start": "2026-12-02T14:00:00+01:00",
    "patient": {
        "first_name": "Zoë",
        "last_name": "Müller",
        "email": "zoe@example.org",
        "phone": "+41 79 123 45 67",
        "language": "fr",
    },
    "consent": True,
}


def body(**changes: Any) -> dict[str, Any]:
    """BODY with ``changes``; a ``patient`` dict changes only the fields it names."""
    sent = {**BODY, **changes}
    if isinstance(changes.get("patient"), dict):
        sent["patient"] = {**BODY["patient"], **changes["patient"]}
    return sent


@pytest.fixture
def web(store: Store, practice_toml: Path) -> WebApp:
    return web_app(store, practice_toml)


def nothing_stored(store: Store) -> bool:
    with store.read() as tx:
        return tx.changes_after(0) == [] and tx.patients_count() == 0


def test_a_booking_answers_201_with_the_appointment_and_a_working_manage_url(
    web: WebApp,
) -> None:
    response = web.client.post("/api/v1/bookings", json=BODY)
    assert response.status_code == 201
    answer = response.get_json()
    assert set(answer) == {"uid", "start", "end", "therapist", "service", "manage_url"}
    assert {k: answer[k] for k in ("start", "end", "therapist", "service")} == {
        "start": "2026-12-02T14:00:00+01:00",
        "end": "2026-12-02T15:15:00+01:00",
        "therapist": "anne",
        "service": "seance-75",
    }
    prefix = "http://127.0.0.1:8080/manage/"
    assert answer["manage_url"].startswith(prefix)
    page = web.client.get(answer["manage_url"].removeprefix("http://127.0.0.1:8080"))
    assert page.status_code == 200
    assert element(page, "appointment-date") == "mercredi 2 décembre 2026"
    assert element(page, "appointment-patient") == "Zoë Müller"
    with web.store.read() as tx:
        stored = tx.appointment(answer["uid"])
        item = tx.item("anne/appointments", f"{answer['uid']}.ics")
    assert stored is not None
    assert item is not None
    assert stored.created_by == "patient"


def test_any_therapist_lets_the_server_choose(web: WebApp) -> None:
    put_ics(web.store, "anne/private", event("busy", "20261204T090000", "20261204T120000"))
    start = "2026-12-04T10:15:00+01:00"  # a start of marc's chain only
    response = web.client.post("/api/v1/bookings", json=body(therapist="any", start=start))
    assert response.status_code == 201
    assert response.get_json()["therapist"] == "marc"
    assert web.client.post("/api/v1/bookings", json=body(start=start)).get_json() == {
        "error": "invalid",
        "fields": {"start": "not_a_slot"},  # anne's chain has no 10:15
    }


def test_a_taken_slot_answers_409(web: WebApp) -> None:
    assert web.client.post("/api/v1/bookings", json=BODY).status_code == 201
    other = body(patient={"email": "paul@example.org", "first_name": "Paul"})
    response = web.client.post("/api/v1/bookings", json=other)
    assert response.status_code == 409
    assert response.get_json() == {"error": "slot_taken"}
    put_ics(web.store, "anne/private", event("dentist", "20261202T160000", "20261202T163000"))
    blocked = web.client.post("/api/v1/bookings", json=body(start="2026-12-02T15:15:00+01:00"))
    assert (blocked.status_code, blocked.get_json()) == (409, {"error": "slot_taken"})
    with web.store.read() as tx:
        assert tx.patients_count() == 1


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"patient": {"phone": "+41 12"}}, {"phone": "invalid_phone"}),
        ({"consent": False}, {"consent": "consent_required"}),
        ({"consent": "yes"}, {"consent": "invalid"}),
        (
            {"patient": {"first_name": "", "email": "zoe@", "language": "es"}},
            {
                "first_name": "required",
                "email": "invalid_email",
                "language": "unsupported_language",
            },
        ),
        (
            {"patient": {"first_name": "Zoë\r\nATTENDEE:mailto:evil@example.org"}},
            {"first_name": "invalid_characters"},
        ),
        (
            {"patient": {"last_name": "Müller\nBCC: evil@example.org"}},
            {"last_name": "invalid_characters"},
        ),
        ({"patient": {"last_name": "M" * 10_000}}, {"last_name": "too_long"}),
        ({"message": "x" * 10_000}, {"message": "too_long"}),
        ({"patient": {"first_name": 7}}, {"first_name": "invalid"}),
        (
            {"patient": "Zoë"},
            {
                "patient": "invalid",
                **{f: "required" for f in ("first_name", "last_name", "email", "phone")},
            },
        ),
        ({"service": "massage"}, {"service": "unknown_choice"}),
        ({"service": "seance-75-flex", "therapist": "marc"}, {"therapist": "unknown_choice"}),
        ({"therapist": "paul"}, {"therapist": "unknown_choice"}),
        ({"start": "2026-12-02T14:15:00+01:00"}, {"start": "not_a_slot"}),
        ({"start": "2026-12-02T12:00:00+01:00"}, {"start": "not_a_slot"}),  # anne's break
        ({"start": "2026-11-30T09:15:00+01:00"}, {"start": "too_soon"}),
        ({"start": "2026-11-27T14:00:00+01:00"}, {"start": "in_the_past"}),
        ({"start": "2027-06-02T14:00:00+02:00"}, {"start": "beyond_horizon"}),
        ({"start": "2026-12-02T14:00:00"}, {"start": "invalid_datetime"}),
        ({"start": "2 December, 2pm"}, {"start": "invalid_datetime"}),
        ({"start": None}, {"start": "required"}),
    ],
)
def test_invalid_fields_answer_422_naming_each(
    web: WebApp, changes: dict[str, Any], fields: dict[str, str]
) -> None:
    response = web.client.post("/api/v1/bookings", json=body(**changes))
    assert response.status_code == 422
    assert response.get_json() == {"error": "invalid", "fields": fields}
    assert nothing_stored(web.store)


@pytest.mark.parametrize(
    "raw", [b"{", b"", b"[1, 2]", b'"a booking"', b"service=seance-75", b"\xff\xfe"]
)
def test_malformed_json_answers_400(web: WebApp, raw: bytes) -> None:
    response = web.client.post(
        "/api/v1/bookings", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == "malformed_json"
    assert nothing_stored(web.store)


def test_the_stored_event_has_exactly_our_properties(web: WebApp) -> None:
    sneaky = body(message="ATTENDEE:mailto:evil@example.org\nBCC: evil@example.org")
    response = web.client.post("/api/v1/bookings", json=sneaky)
    assert response.status_code == 201
    uid = response.get_json()["uid"]
    with web.store.read() as tx:
        item = tx.item("anne/appointments", f"{uid}.ics")
        stored = tx.appointment(uid)
    assert item is not None
    assert stored is not None
    assert stored.message == "ATTENDEE:mailto:evil@example.org\nBCC: evil@example.org"
    assert "evil" not in item.text  # the note to the therapist stays out of the calendar
    vevent = load_calendar(item.text).walk("VEVENT")[0]
    assert sorted(vevent.keys()) == sorted(
        [
            "UID",
            "DTSTAMP",
            "DTSTART",
            "DTEND",
            "SUMMARY",
            "LOCATION",
            "DESCRIPTION",
            "URL",
            "STATUS",
            "TRANSP",
            "SEQUENCE",
        ]
    )


def test_the_api_needs_no_csrf_token(web: WebApp) -> None:
    fresh = web.new_client()  # no session, no cookie
    assert fresh.post("/api/v1/bookings", json=BODY).status_code == 201


def test_the_rate_limit_answers_429_with_retry_after(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="2/minute")
    web.clock.now = NOW + timedelta(seconds=15)
    for _ in range(2):
        assert web.client.post("/api/v1/bookings", json={}).status_code == 422
    refused = web.client.post("/api/v1/bookings", json=BODY)
    assert refused.status_code == 429
    assert refused.get_json() == {"error": "rate_limited"}
    assert refused.headers["Retry-After"] == "45"
    other_address = web.client.post(
        "/api/v1/bookings", json=BODY, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other_address.status_code == 201


def test_the_limit_holds_across_processes_sharing_the_database(
    database_url: str, practice_toml: Path
) -> None:
    """Two apps, each with its own store (connection pool) on one database: one limit."""
    first, second = Store.connect(database_url), Store.connect(database_url)
    try:
        web_one = web_app(first, practice_toml, rate="3/minute")
        web_two = web_app(second, practice_toml, rate="3/minute")
        statuses = [
            web.client.post("/api/v1/bookings", json={}).status_code
            for web in (web_one, web_two, web_one, web_two, web_one)
        ]
    finally:
        first.close()
        second.close()
    assert statuses == [422, 422, 422, 429, 429]


def test_ipv6_clients_are_limited_by_their_64_network(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="1/minute")
    one = {"REMOTE_ADDR": "2001:db8:1:2::1"}
    same_network = {"REMOTE_ADDR": "2001:db8:1:2::ffff"}
    other_network = {"REMOTE_ADDR": "2001:db8:1:3::1"}
    assert web.client.post("/api/v1/bookings", json={}, environ_base=one).status_code == 422
    assert (
        web.client.post("/api/v1/bookings", json={}, environ_base=same_network).status_code == 429
    )
    assert (
        web.client.post("/api/v1/bookings", json={}, environ_base=other_network).status_code == 422
    )


@pytest.fixture(params=["sqlite", "postgres"])
def two_servers(request: pytest.FixtureRequest, practice_toml: Path) -> Iterator[list[str]]:
    """Two `caldav-bridge serve` processes on one database (rate limit off)."""
    configure(practice_toml, booking_rate_limit='"off"')
    url = "" if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))
    env = {DATABASE_URL_ENV: url}
    assert run_cli("--config", str(practice_toml), "init", env=env).returncode == 0
    with (
        serving(practice_toml, env, ["--no-watcher"]) as one,
        serving(practice_toml, env, ["--no-watcher"]) as two,
    ):
        yield [one, two]


def test_twenty_concurrent_bookings_across_two_servers_make_exactly_one(
    two_servers: list[str],
) -> None:
    first_day = (datetime.now(UTC) + timedelta(days=7)).date().isoformat()
    offered = requests.get(
        f"{two_servers[0]}/api/v1/slots",
        params={"service": "seance-75", "therapist": "anne", "from": first_day, "days": 7},
        timeout=30,
    ).json()
    start = offered[0]["start"]
    gate = threading.Barrier(20)
    answers: list[tuple[int, dict[str, Any]]] = []

    def attempt(i: int) -> None:
        sent = body(start=start, patient={"email": f"p{i}@example.org", "first_name": f"P{i}"})
        gate.wait(30)
        response = requests.post(f"{two_servers[i % 2]}/api/v1/bookings", json=sent, timeout=120)
        answers.append((response.status_code, response.json()))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    statuses = sorted(status for status, _ in answers)
    assert statuses == [201] + [409] * 19
    assert all(answer == {"error": "slot_taken"} for status, answer in answers if status == 409)
    (won,) = [answer for status, answer in answers if status == 201]
    assert won["start"] == start
    for base_url in two_servers:  # either server opens the link it gave
        path = won["manage_url"].split("/manage/", 1)[1]
        assert requests.get(f"{base_url}/manage/{path}", timeout=30).status_code == 200

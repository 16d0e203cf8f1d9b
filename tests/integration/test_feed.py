"""The read-only ICS feed (GET /feeds/<login>/<token>.ics), on SQLite and PostgreSQL.

Anne's calendars are filled over CalDAV as her apps would; one of her events is an appointment
booked for the patient Zoë Müller. The feed is read through the one WSGI application of
`caldav-bridge serve` (and once through the real server).
"""

from __future__ import annotations

import base64
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import icalendar
import pytest
import requests
from werkzeug.test import Client, TestResponse

from bridge_server.commands import init
from bridge_server.wsgi import build_runtime, wsgi_app
from caldav_bridge.accounts import set_password
from caldav_bridge.config_loader import load_config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.feed import feed_url, revoke_feed
from caldav_bridge.runtime import Runtime
from caldav_bridge.secret_key import secret_key
from caldav_bridge.store import Store, utc_now
from caldav_bridge.store.database import DATABASE_URL_ENV, database_url
from caldav_bridge.store.schema import appointments, patients
from tests.support.serve import run_cli, serving

PASSWORDS = {"anne": "anne-password-1", "marc": "marc-password-1"}


def event(uid: str, summary: str, *extra: str, day: str = "20261202") -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Apple Inc.//macOS 15.0//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T080000Z",
        f"DTSTART;TZID=Europe/Zurich:{day}T140000",
        f"DTEND;TZID=Europe/Zurich:{day}T151500",
        f"SUMMARY:{summary}",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


APPOINTMENT = event(
    "appt-1",
    "Zoë Müller",
    "DESCRIPTION:Anxiety\\, second session",
    "ATTENDEE;CN=Zoë Müller:mailto:zoe@example.org",
)
LUNCH = event("lunch", "Lunch with Marc", "DESCRIPTION:Café du Port", day="20261203")
COURSE = event("course", "Training course", day="20261204")
MARCS = event("marcs", "Marc's appointment")


@dataclass
class Practice:
    client: Client
    runtime: Runtime
    config_file: Path

    @property
    def store(self) -> Store:
        return self.runtime.store

    def caldav(self, method: str, path: str, user: str, body: str = "") -> int:
        token = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
        response = self.client.open(
            f"/dav/{path}", method=method, data=body, headers={"Authorization": f"Basic {token}"}
        )
        return response.status_code

    def url_path(self, login: str = "anne") -> str:
        return urlsplit(feed_url(self.runtime, login)).path

    def get(self, path: str, **headers: str) -> TestResponse:
        return self.client.get(path, headers=headers)

    def feed(self) -> icalendar.Calendar:
        response = self.get(self.url_path())
        assert response.status_code == 200
        return icalendar.Calendar.from_ical(response.get_data())


def summaries(feed: icalendar.Calendar) -> dict[str, str]:
    return {str(e["UID"]): str(e["SUMMARY"]) for e in feed.walk("VEVENT")}


@pytest.fixture
def practice(practice_toml: Path, database_url: str) -> Iterator[Practice]:
    env = {DATABASE_URL_ENV: database_url}
    init(practice_toml, env, demo=False, admin_password=None)
    built = build_runtime(practice_toml, env)
    # Every request sees a hand edit of the file (the default re-reads at most once a second).
    runtime = dataclasses.replace(built, config_source=ConfigSource(practice_toml, interval=0))
    for login, password in PASSWORDS.items():
        set_password(runtime.store, login, password, actor="test")
    practice = Practice(Client(wsgi_app(runtime)), runtime, practice_toml)
    for status in (
        practice.caldav("PUT", "anne/appointments/appt-1.ics", "anne", APPOINTMENT),
        practice.caldav("PUT", "anne/appointments/lunch.ics", "anne", LUNCH),
        practice.caldav("MKCALENDAR", "anne/courses/", "anne"),
        practice.caldav("PUT", "anne/courses/course.ics", "anne", COURSE),
        practice.caldav("PUT", "marc/appointments/marcs.ics", "marc", MARCS),
    ):
        assert status == 201
    now = datetime.now(UTC)
    with runtime.store.write("anne") as tx:
        key = tx.conn.execute(
            patients.insert().values(
                first_name="Zoë",
                last_name="Müller",
                email="zoe@example.org",
                language="fr",
                sms_enabled=True,
                notes="Anxiety",
                created_by="patient",
                created_at=now,
                updated_at=now,
            )
        ).inserted_primary_key
        assert key is not None
        tx.conn.execute(
            appointments.insert().values(
                uid="appt-1",
                therapist="anne",
                collection_path="anne/appointments",
                href="appt-1.ics",
                patient_id=key[0],
                service="seance-75",
                start_at=datetime(2026, 12, 2, 13, 0, tzinfo=UTC),
                end_at=datetime(2026, 12, 2, 14, 15, tzinfo=UTC),
                status="confirmed",
                created_by="patient",
                sms_enabled=True,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    yield practice
    runtime.store.close()


def test_the_feed_holds_all_of_the_therapists_calendars_and_only_hers(practice: Practice) -> None:
    response = practice.get(practice.url_path())
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    assert response.headers["Cache-Control"] == "private, no-cache"
    feed = icalendar.Calendar.from_ical(response.get_data())
    assert summaries(feed) == {
        "appt-1": "Séance (75 min) – Z. M.",
        "lunch": "Lunch with Marc",
        "course": "Training course",
    }
    assert [str(z["TZID"]) for z in feed.walk("VTIMEZONE")] == ["Europe/Zurich"]
    body = response.get_data()
    assert b"Anxiety" not in body
    assert b"zoe@example.org" not in body
    assert "Müller".encode() not in body
    assert "Café du Port".encode() in body  # her own events pass through


def test_full_names_when_the_practice_says_so(practice: Practice) -> None:
    before = practice.get(practice.url_path())
    text = practice.config_file.read_text(encoding="utf-8")
    practice.config_file.write_text(
        text.replace('privacy = "initials"', 'privacy = "full_name"'), encoding="utf-8"
    )
    after = practice.get(practice.url_path(), **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # the edit changed the feed, so its ETag
    feed = icalendar.Calendar.from_ical(after.get_data())
    assert summaries(feed)["appt-1"] == "Séance (75 min) – Zoë Müller"
    assert b"Anxiety" not in after.get_data()


def test_a_revoked_url_is_gone_at_once(practice: Practice) -> None:
    old = practice.url_path()
    assert practice.get(old).status_code == 200
    revoke_feed(practice.store, "anne", actor="anne")
    new = practice.url_path()
    assert new != old
    assert practice.get(old).status_code == 404
    assert practice.get(new).status_code == 200
    with practice.store.read() as tx:
        assert ("anne", "feed.revoke", "anne") in [
            (e.actor, e.action, e.subject) for e in tx.audit_entries()
        ]


def test_wrong_addresses_are_plain_404s(practice: Practice) -> None:
    anne = practice.url_path()
    token = anne.rsplit("/", 1)[1]
    wrong = [
        anne.replace(token, "x" * 43 + ".ics"),
        anne.replace(token, token[:-5] + ".ics"),
        anne.replace("/anne/", "/marc/"),  # anne's token for marc's feed
        anne.replace("/anne/", "/nobody/"),
        anne.replace("/anne/", "/admin/"),
        anne.removesuffix(".ics"),
    ]
    for path in wrong:
        assert practice.get(path).status_code == 404, path
    assert practice.get(practice.url_path("marc")).status_code == 200


def test_a_deactivated_therapist_has_no_feed(practice: Practice) -> None:
    path = practice.url_path()
    with practice.store.write() as tx:
        tx.set_active("anne", False)
    assert practice.get(path).status_code == 404


def test_an_unchanged_feed_is_not_sent_again(practice: Practice) -> None:
    first = practice.get(practice.url_path())
    etag = first.headers["ETag"]
    again = practice.get(practice.url_path(), **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    weak = practice.get(practice.url_path(), **{"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304

    moved = LUNCH.replace("20261203T", "20261205T")
    assert practice.caldav("PUT", "anne/appointments/lunch.ics", "anne", moved) == 204
    changed = practice.get(practice.url_path(), **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert b"20261205T140000" in changed.get_data()


def test_a_renamed_patient_changes_the_feed(practice: Practice) -> None:
    etag = practice.get(practice.url_path()).headers["ETag"]
    with practice.store.write("anne") as tx:
        tx.conn.execute(patients.update().values(first_name="Anna", updated_at=datetime.now(UTC)))
    response = practice.get(practice.url_path(), **{"If-None-Match": etag})
    assert response.status_code == 200
    feed = icalendar.Calendar.from_ical(response.get_data())
    assert summaries(feed)["appt-1"] == "Séance (75 min) – A. M."


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {DATABASE_URL_ENV: ""}
    return {DATABASE_URL_ENV: str(request.getfixturevalue("postgres_url"))}


def test_the_served_feed(practice_toml: Path, database_env: dict[str, str]) -> None:
    """Through `caldav-bridge serve`, as Google Calendar fetches it."""
    assert run_cli("--config", str(practice_toml), "init", env=database_env).returncode == 0
    config = load_config(practice_toml)
    store = Store.connect(
        database_url(config.server.database_url, config.server.data_dir, database_env)
    )
    key = secret_key(store, config.server.secret_key_env, database_env)
    runtime = Runtime(ConfigSource(practice_toml), store, key, utc_now)
    try:
        with serving(practice_toml, database_env) as base_url:
            path = urlsplit(feed_url(runtime, "anne")).path
            response = requests.get(base_url + path, timeout=30)
            assert response.status_code == 200
            assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
            feed = icalendar.Calendar.from_ical(response.content)
            assert str(feed["X-WR-CALNAME"]) == "Cabinet du Lac – Anne Rochat"
            cached = requests.get(
                base_url + path, headers={"If-None-Match": response.headers["ETag"]}, timeout=30
            )
            assert cached.status_code == 304
            revoke_feed(store, "anne", actor="admin")
            assert requests.get(base_url + path, timeout=30).status_code == 404
    finally:
        store.close()

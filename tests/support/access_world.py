"""The world the web authorization matrix runs in: one web app on one real store per module,
a logged-in browser per user, and fresh objects of therapist A for every case.

- Each case gets its own browser, a copy of its user's logged-in session cookie: a logout, a
  flash message or a language switch in one case never reaches another.
- Objects named in URLs (appointments, patients, app passwords, deliveries, manage links) are
  made anew for each case, so a case that cancels, revokes or requeues leaves the next case a
  fresh object: the cases do not depend on their order.
- `state()` is everything stored (every table's rows and ``practice.toml``): a refused request
  must leave it exactly as it was.
"""

from __future__ import annotations

import itertools
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from caldav_bridge.accounts import create_app_password
from caldav_bridge.availability import find_slots, slot_query
from caldav_bridge.feed import feed_url
from caldav_bridge.manage_links import manage_token
from caldav_bridge.manual_booking import OUTSIDE_SLOTS, ManualBooking, book_manually
from caldav_bridge.store import Appointment, Patient, PatientDetails, Store
from caldav_bridge.store.outbox import OutboxMessage
from tests.integration.test_admin_support import admin_log_in
from tests.integration.test_therapist_support import log_in, therapist_space
from tests.support.access import ADMIN, ANONYMOUS, THERAPIST_A, THERAPIST_B
from tests.support.calendars import ZURICH
from tests.support.databases import admin_execute, with_database
from tests.support.web import hidden_fields, location

# The therapist whose login, hours and password the admin's forms change in the matrix (never
# A or B: deactivating one of them would end the sessions the other cases use).
MANAGED = "lea"
MANAGED_THERAPIST = """
[therapists.lea]
name = "Léa Matrix"
email = "lea@cabinet-du-lac.example"
language = "fr"
calendar_name = "Rendez-vous"
color = "#7A4FB0"

[therapists.lea.hours]
monday = ["08:00-12:00"]
"""
SERVICE = "seance-75"
LANDING = {THERAPIST_A: "/therapist/agenda", THERAPIST_B: "/therapist/agenda"}


def matrix_practice(demo: Path, folder: Path) -> Path:
    """The demo configuration with `MANAGED` added, in ``folder``/config."""
    config = folder / "config"
    config.mkdir()
    practice_toml = config / "practice.toml"
    shutil.copy(demo, practice_toml)
    with practice_toml.open("a", encoding="utf-8") as file:
        file.write(MANAGED_THERAPIST)
    return practice_toml


@contextmanager
def module_database(request: pytest.FixtureRequest, kind: str, folder: Path) -> Iterator[str]:
    """A fresh, migrated database for a module: a copy of the SQLite template, or a PostgreSQL
    database cloned from the session's template (dropped afterwards)."""
    if kind == "sqlite":
        path = folder / "store.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin_url = str(request.getfixturevalue("postgres_admin_url"))
    template = str(request.getfixturevalue("postgres_template"))
    name = f"cb_{uuid.uuid4().hex[:16]}"
    admin_execute(admin_url, f"CREATE DATABASE {name} TEMPLATE {template}")
    try:
        yield with_database(admin_url, name)
    finally:
        admin_execute(admin_url, f"DROP DATABASE {name} WITH (FORCE)")


class World:
    def __init__(self, store: Store, practice_toml: Path) -> None:
        self.space = therapist_space(store, practice_toml)
        self.web = self.space.web
        self.store = store
        self.practice_toml = practice_toml
        self.secrets: list[str] = []  # what therapist A's patients are called, and their emails
        self._numbers = itertools.count(1)
        self._days = itertools.count(2)
        metadata = sa.MetaData()
        metadata.reflect(store.engine)
        self._tables = metadata.sorted_tables
        self._cookies = {ANONYMOUS: None, **{user: self._log_in(user) for user in LANDING}}
        self._cookies[ADMIN] = self._log_in_admin()

    # -- browsers --------------------------------------------------------------------------

    @property
    def _cookie_name(self) -> str:
        return str(self.web.app.config["SESSION_COOKIE_NAME"])

    def _log_in(self, user: str) -> str:
        client = self.web.new_client()
        assert location(log_in(client, user)) == LANDING[user]
        return self._session_of(client)

    def _log_in_admin(self) -> str:
        client = self.web.new_client()
        assert location(admin_log_in(client)) == "/admin/practice"
        return self._session_of(client)

    def _session_of(self, client: FlaskClient) -> str:
        cookie = client.get_cookie(self._cookie_name)
        assert cookie is not None
        return cookie.value

    def browser(self, user: str) -> FlaskClient:
        """A new browser holding ``user``'s session (none for the anonymous visitor)."""
        client = self.web.new_client()
        cookie = self._cookies[user]
        if cookie is not None:
            client.set_cookie(self._cookie_name, cookie)
        return client

    @staticmethod
    def csrf_token(client: FlaskClient) -> str:
        """This browser's session token, as every page's language switch carries it."""
        return hidden_fields(client.get("/"), "/language")["csrf_token"]

    # -- everything stored -------------------------------------------------------------------

    def state(self) -> dict[str, object]:
        found: dict[str, object] = {"practice.toml": self.practice_toml.read_text("utf-8")}
        with self.store.engine.connect() as connection:
            for table in self._tables:
                rows = connection.execute(sa.select(table)).all()
                found[table.name] = sorted((tuple(row) for row in rows), key=repr)
        return found

    # -- fresh objects of therapist A --------------------------------------------------------

    def patient(self) -> Patient:
        number = next(self._numbers)
        last, email = f"Secretan{number}", f"ophelie.{number}@patients.example"
        self.secrets += [last, email]
        details = PatientDetails("Ophélie", last, email, f"+4179{number:07d}", "fr")
        with self.store.write() as tx:
            return tx.add_patient(details, THERAPIST_A, False)

    def appointment(self) -> Appointment:
        """A confirmed appointment of A, on a day of its own at 20:00 (outside A's hours, so
        never in the way of a free slot)."""
        day = self.web.clock.now.date() + timedelta(days=next(self._days))
        start = datetime.combine(day, time(20, 0), ZURICH)
        request = ManualBooking(
            THERAPIST_A,
            self.patient().id,
            SERVICE,
            start,
            str(uuid.uuid4()),
            frozenset({OUTSIDE_SLOTS}),
        )
        config = self.web.runtime.config
        return book_manually(self.store, config, request, self.web.clock.now, "fr")

    def app_password(self) -> int:
        label = f"Tablet {next(self._numbers)}"
        return create_app_password(self.store, THERAPIST_A, label, THERAPIST_A).id

    def failed_delivery(self) -> int:
        """A message of the outbox whose sending failed (the admin may requeue it)."""
        now = self.web.clock.now
        key = f"matrix-{next(self._numbers)}"
        message = OutboxMessage(key, "email", f"{key}@example.org", "confirmation", None, {})
        with self.store.write() as tx:
            assert tx.enqueue(message, now)
            claimed = tx.claim_messages(now, now + timedelta(minutes=5), 100)
            (entry,) = [e for e in claimed if e.key == key]
            assert tx.mark_failed(entry, "550 no such user")
        return entry.id

    def manage_token(self) -> str:
        """The patient's link to a fresh appointment of A (more than a day ahead)."""
        booked = self.appointment()
        return manage_token(self.web.runtime.secret_key, booked.uid, booked.version)

    def feed_token(self) -> str:
        """The current secret of A's feed (A's cases may have revoked the previous one)."""
        match = re.search(r"/([^/]+)\.ics$", feed_url(self.web.runtime, THERAPIST_A))
        assert match
        return match.group(1)

    def free_slot(self) -> str:
        """The first start that the booking engine offers with A."""
        config, now = self.web.runtime.config, self.web.clock.now
        query = slot_query(config, SERVICE, THERAPIST_A, now.date(), 14)
        with self.store.read() as tx:
            slots = find_slots(tx, config, query, now)
        assert slots, "the engine offers no slot with A in the next two weeks"
        return slots[0].start.isoformat()

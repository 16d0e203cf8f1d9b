"""A practice for the tests of patients' data (delivery logs, export, erasure): loopback SMTP
and Twilio servers, a store with a clock the test moves, the watcher as `serve` builds it, and
the Flask app on the same runtime, with the demo logins' passwords set.

Optionally the CalDAV server too (`tests.support.dav.dav_server`, on the same database), for
tests that check what calendar apps see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from booking_web import create_app
from caldav_bridge.accounts import provision_accounts, set_password
from caldav_bridge.patient_records import fold
from caldav_bridge.store import PatientDetails, Store
from tests.integration.test_admin_support import admin_log_in
from tests.integration.test_therapist_support import PASSWORDS, log_in
from tests.support.dav import DavServer, dav_server
from tests.support.notify import Practice, close_practices, configure, open_practice
from tests.support.smtp import SmtpServer
from tests.support.twilio_server import TwilioServer
from tests.support.web import location

# A patient whose every trace is easy to find: no other test data contains these.
ZOE = PatientDetails("Zoë", "Quenneville", "zoe.quenneville@example.org", "+41791112233", "fr")
# Her traces, as patterns over folded text ("Zoë" -> "zoe"): name, email, phone in any form.
ZOE_TRACES = (r"\bzoe\b", r"quenneville", r"791112233", r"79 111 22 33")
HANS = PatientDetails("Hans", "Keller", "hans@example.org", "+41797654321", "de")


@dataclass
class PatientScene:
    practice: Practice
    smtp: SmtpServer
    twilio: TwilioServer
    app: Flask
    dav: DavServer | None

    @property
    def store(self) -> Store:
        return self.practice.store

    def admin(self) -> FlaskClient:
        """A new browser, logged in to the admin panel."""
        client = self.app.test_client()
        assert location(admin_log_in(client)) == "/admin/practice"
        return client

    def therapist(self, login: str) -> FlaskClient:
        client = self.app.test_client()
        assert location(log_in(client, login)) == "/therapist/agenda"
        return client

    def patient_id(self, uid: str) -> int:
        with self.store.read() as tx:
            found = tx.patient_of_appointment(uid)
        assert found is not None
        return found.id


@contextmanager
def patient_scene(
    practice_toml: Path, database_url: str, *, caldav: bool = False
) -> Iterator[PatientScene]:
    with ExitStack() as stack:
        smtp = stack.enter_context(SmtpServer())
        twilio = stack.enter_context(TwilioServer())
        configure(practice_toml, smtp, twilio)
        dav = stack.enter_context(dav_server(practice_toml, database_url)) if caldav else None
        stack.callback(close_practices)
        practice = open_practice(practice_toml, database_url)
        provision_accounts(practice.store, practice.config, PASSWORDS["admin"])
        if dav is None:
            for login in ("anne", "marc"):
                set_password(practice.store, login, PASSWORDS[login], "test")
        yield PatientScene(practice, smtp, twilio, create_app(practice.runtime), dav)


def text_columns(store: Store) -> Iterator[tuple[str, str, str]]:
    """(table, column, value) of every non-empty text value in the database, every table
    (as the database has them, migrations' own table included)."""
    tables = sa.MetaData()
    tables.reflect(store.engine)
    with store.engine.connect() as connection:
        for table in tables.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, sa.String | sa.Text)]
            if not columns:
                continue
            for row in connection.execute(sa.select(*columns)):
                for column, value in zip(columns, row, strict=True):
                    if value:
                        yield table.name, column.name, str(value)


def traces_of(store: Store, traces: tuple[str, ...] = ZOE_TRACES) -> list[tuple[str, str, str]]:
    """Where the database still holds one of ``traces`` (patterns, case- and accent-
    insensitive, also across iCalendar's folded lines)."""
    found = []
    for table, column, value in text_columns(store):
        flat = fold(re.sub(r"\r?\n[ \t]", "", value))
        found.extend((table, column, t) for t in traces if re.search(t, flat))
    return found

"""Helpers of the therapist space's tests (no tests here): the web app with the demo
therapists' passwords set, logging in as a browser would, and reading what a page offers.

Everything goes through the real Flask app, the real store (SQLite or PostgreSQL) and the
real forms: every POST carries the hidden fields (CSRF token included) of the page's form.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from caldav_bridge.accounts import provision_accounts, set_password
from caldav_bridge.store import Appointment, Patient, PatientDetails, Store
from tests.support.calendars import ZURICH
from tests.support.web import WebApp, hidden_fields, location, web_app

PASSWORDS = {"anne": "anne-password-1", "marc": "marc-password-1", "admin": "admin-password-1"}
LOGIN_PAGE = "/therapist/login"


@dataclass
class Space:
    web: WebApp

    @property
    def store(self) -> Store:
        return self.web.store

    @property
    def client(self) -> FlaskClient:
        return self.web.client


def therapist_space(store: Store, practice_toml: Path) -> Space:
    web = web_app(store, practice_toml)
    provision_accounts(store, web.runtime.config, PASSWORDS["admin"])
    for login in ("anne", "marc"):
        set_password(store, login, PASSWORDS[login], "test")
    return Space(web)


def at(text: str) -> datetime:
    """A local time of the practice: ``at("2026-12-02 14:00")``."""
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH)


def log_in(
    client: FlaskClient,
    login: str = "anne",
    password: str | None = None,
    *,
    address: str = "127.0.0.1",
    next_page: str = "",
) -> TestResponse:
    """Fill in and send the login form, as a browser at ``address`` would."""
    page = client.get(LOGIN_PAGE, query_string={"next": next_page} if next_page else None)
    fields = hidden_fields(page, LOGIN_PAGE)
    return client.post(
        LOGIN_PAGE,
        data={
            **fields,
            "login": login,
            "password": PASSWORDS[login] if password is None else password,
        },
        environ_base={"REMOTE_ADDR": address},
    )


def logged_in(space: Space, login: str = "anne") -> FlaskClient:
    """A new browser, logged in as ``login``."""
    client = space.web.new_client()
    answer = log_in(client, login)
    assert location(answer) == "/therapist/agenda", answer.status_code
    return client


def form_fields(page: TestResponse, action: str, form_id: str | None = None) -> MultiDict[str, str]:
    """The hidden inputs of the form posting to ``action`` (the one with ``form_id``, if
    given), repeated names included."""
    text = page.get_data(as_text=True)
    for match in re.finditer(r"(?s)<form\b([^>]*)>(.*?)</form>", text):
        attributes, body = match.groups()
        if f'action="{action}"' not in attributes:
            continue
        if form_id is not None and f'id="{form_id}"' not in attributes:
            continue
        pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body)
        return MultiDict([(html.unescape(n), html.unescape(v)) for n, v in pairs])
    raise AssertionError(f"no form posting to {action} ({form_id})")


def post_form(
    client: FlaskClient,
    page: TestResponse,
    action: str,
    form_id: str | None = None,
    **fields: str,
) -> TestResponse:
    """Send the form of ``page`` that posts to ``action``: its hidden fields and ``fields``."""
    data = form_fields(page, action, form_id)
    for name, value in fields.items():
        data[name] = value
    return client.post(action, data=data)


def add_patient(
    store: Store,
    created_by: str,
    first: str = "Zoë",
    last: str = "Müller",
    email: str | None = "zoe@example.org",
    phone: str | None = "+41791234567",
    language: str = "fr",
) -> Patient:
    with store.write() as tx:
        return tx.add_patient(
            PatientDetails(first, last, email, phone, language), created_by, False
        )


def appointment_of(store: Store, uid: str) -> Appointment:
    with store.read() as tx:
        found = tx.appointment(uid)
    assert found is not None
    return found


def uid_from(response: TestResponse) -> str:
    """The UID of the appointment page a redirect leads to."""
    match = re.fullmatch(r"/therapist/appointments/([0-9a-f-]{36})", location(response))
    assert match, location(response)
    return match.group(1)


def audit_actions(store: Store) -> list[tuple[str, str, str, str]]:
    """(actor, action, subject, details) of every audit entry, oldest first."""
    with store.read() as tx:
        entries = tx.audit_entries(limit=1000)
    return [(e.actor, e.action, e.subject, e.details) for e in reversed(entries)]

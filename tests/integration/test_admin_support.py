"""Helpers of the admin panel's tests (no tests here): the web app with the demo logins'
passwords set, logging in to the panel as a browser would, and sending its forms with their
hidden fields (CSRF token and the configuration's version included)."""

from __future__ import annotations

from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path

from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from caldav_bridge.store import Store
from tests.integration.test_therapist_support import (
    PASSWORDS,
    Space,
    therapist_space,
)
from tests.support.web import hidden_fields, location

ADMIN_LOGIN = "/admin/login"

__all__ = ["ADMIN_LOGIN", "PASSWORDS", "Space", "admin_log_in", "admin_panel", "logged_in_admin"]


def admin_panel(store: Store, practice_toml: Path) -> Space:
    return therapist_space(store, practice_toml)


def admin_log_in(
    client: FlaskClient,
    login: str = "admin",
    password: str | None = None,
    *,
    address: str = "127.0.0.1",
    next_page: str = "",
) -> TestResponse:
    page = client.get(ADMIN_LOGIN, query_string={"next": next_page} if next_page else None)
    return client.post(
        ADMIN_LOGIN,
        data={
            **hidden_fields(page, ADMIN_LOGIN),
            "login": login,
            "password": PASSWORDS[login] if password is None else password,
        },
        environ_base={"REMOTE_ADDR": address},
    )


def logged_in_admin(space: Space) -> FlaskClient:
    client = space.web.new_client()
    answer = admin_log_in(client)
    assert location(answer) == "/admin/practice", answer.status_code
    return client


class _Form(HTMLParser):
    """What a browser would send for the form posting to ``action``: its inputs' values
    (checked boxes only), textareas and selected options."""

    def __init__(self, action: str, form_id: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action, self.form_id = action, form_id
        self.inside = False
        self.found = False
        self.select: str | None = None
        self.textarea: str | None = None
        self.data: MultiDict[str, str] = MultiDict()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("action") == self.action and (
                self.form_id is None or a.get("id") == self.form_id
            )
            self.found = self.found or self.inside
        if not self.inside or "disabled" in a:
            return
        if tag == "input" and a.get("name"):
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.data.add(a["name"], a.get("value", "on"))
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and "selected" in a:
            self.data.add(self.select, a.get("value", ""))
        elif tag == "textarea":
            self.textarea = a.get("name")
            self.data.add(a.get("name", ""), "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.inside and self.textarea:
            self.data.setlist(self.textarea, [self.data.get(self.textarea, "") + data])


def browser_form(
    page: TestResponse, action: str, form_id: str | None = None
) -> MultiDict[str, str]:
    parser = _Form(action, form_id)
    parser.feed(page.get_data(as_text=True))
    assert parser.found, f"no form posting to {action}"
    return parser.data


def submit(
    client: FlaskClient,
    page: TestResponse,
    action: str,
    fields: Mapping[str, str | list[str]],
    form_id: str | None = None,
) -> TestResponse:
    """Send the form of ``page`` posting to ``action`` as a browser would, with ``fields``
    typed over its values."""
    data = browser_form(page, action, form_id)
    for name, value in fields.items():
        data.setlist(name, value if isinstance(value, list) else [value])
    return client.post(action, data=data)

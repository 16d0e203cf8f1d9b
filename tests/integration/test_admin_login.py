"""Logging in to the admin panel, on SQLite and PostgreSQL: only the `admin` login (a
therapist's correct password is refused), CSRF, throttled failures, logout, idle timeout, and
sessions that end when the admin's password changes."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from caldav_bridge.accounts import create_app_password, set_password
from caldav_bridge.store import Store
from tests.integration.test_admin_support import (
    ADMIN_LOGIN,
    Space,
    admin_log_in,
    admin_panel,
    logged_in_admin,
)
from tests.integration.test_therapist_support import log_in
from tests.support.web import element, hidden_fields, location

PAGES = [
    "/admin/",
    "/admin/practice",
    "/admin/hours",
    "/admin/hours/anne?day=2026-12-02",
    "/admin/therapists",
    "/admin/therapists/anne",
    "/admin/deliveries",
    "/admin/audit",
]
ACTIONS = [
    "/admin/practice",
    "/admin/hours/anne",
    "/admin/therapists/anne/password",
    "/admin/therapists/anne/deactivate",
    "/admin/therapists/anne/reactivate",
    "/admin/deliveries/1/requeue",
]


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_asks_a_visitor_to_log_in_first(space: Space, page: str) -> None:
    answer = space.web.new_client().get(page)
    assert answer.status_code == 303
    assert location(answer).startswith(ADMIN_LOGIN)


@pytest.mark.parametrize("page", PAGES)
def test_a_therapist_session_opens_no_page_of_the_panel(space: Space, page: str) -> None:
    client = space.web.new_client()
    assert location(log_in(client, "anne")) == "/therapist/agenda"
    assert location(client.get(page)).startswith(ADMIN_LOGIN)


@pytest.mark.parametrize("action", ACTIONS)
def test_a_therapist_session_changes_nothing_even_with_its_csrf_token(
    space: Space, practice_toml: Path, action: str
) -> None:
    client = space.web.new_client()
    log_in(client, "anne")
    token = hidden_fields(client.get("/therapist/account"), "/therapist/logout")["csrf_token"]
    before = practice_toml.read_text(encoding="utf-8")
    fields = {"csrf_token": token, "password": "x" * 12, "password2": "x" * 12, "version": ""}
    answer = client.post(action, data=fields)
    assert location(answer).startswith(ADMIN_LOGIN)
    assert practice_toml.read_text(encoding="utf-8") == before
    with space.store.read() as tx:
        anne = tx.user("anne")
        assert [e.action for e in tx.audit_entries(50) if e.actor == "admin"] == []
    assert anne is not None
    assert anne.active


def test_the_admin_logs_in_and_the_login_is_audited(space: Space) -> None:
    client = logged_in_admin(space)
    page = client.get("/admin/practice")
    assert page.status_code == 200
    assert element(page, "logged-in-as") == "admin"
    assert page.headers["Cache-Control"] == "no-store"
    with space.store.read() as tx:
        assert tx.audit_entries(1)[0].action == "admin.login"


def test_a_therapist_is_refused_even_with_the_right_password(space: Space) -> None:
    client = space.web.new_client()
    answer = admin_log_in(client, "anne")
    assert answer.status_code == 422
    assert element(answer, "login-problem") == (
        "Ce panneau est réservé à l’administrateur du cabinet. "
        "Les thérapeutes utilisent l’espace thérapeute."
    )
    assert client.get("/admin/practice").status_code == 303


def test_a_therapist_session_does_not_open_the_panel(space: Space) -> None:
    client = space.web.new_client()
    assert location(log_in(client, "anne")) == "/therapist/agenda"
    assert location(client.get("/admin/practice")).startswith(ADMIN_LOGIN)


def test_an_app_password_does_not_open_the_panel(space: Space) -> None:
    app_password = create_app_password(space.store, "admin", "laptop", "test")
    answer = admin_log_in(space.web.new_client(), password=app_password.secret)
    assert answer.status_code == 422


def test_a_wrong_password_gets_a_message_in_the_visitors_language(space: Space) -> None:
    client = space.web.new_client()
    german = {"Accept-Language": "de"}
    page = client.get(ADMIN_LOGIN, headers=german)
    answer = client.post(
        ADMIN_LOGIN,
        data={**hidden_fields(page, ADMIN_LOGIN), "login": "admin", "password": "nope-nope"},
        headers=german,
    )
    assert answer.status_code == 422
    assert element(answer, "login-problem") == "Login oder Passwort ist nicht korrekt."


def test_a_login_without_the_csrf_token_is_refused(space: Space) -> None:
    client = space.web.new_client()
    client.get(ADMIN_LOGIN)
    answer = client.post(ADMIN_LOGIN, data={"login": "admin", "password": "admin-password-1"})
    assert answer.status_code == 400
    assert client.get("/admin/practice").status_code == 303


def test_repeated_failures_are_throttled(space: Space) -> None:
    client = space.web.new_client()
    for attempt in range(5):
        assert admin_log_in(client, password=f"wrong-{attempt}-x").status_code == 422
    throttled = admin_log_in(client)
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert client.get("/admin/practice").status_code == 303


def test_logging_out_ends_the_session(space: Space) -> None:
    client = logged_in_admin(space)
    page = client.get("/admin/practice")
    answer = client.post("/admin/logout", data=hidden_fields(page, "/admin/logout"))
    assert location(answer) == ADMIN_LOGIN
    assert client.get("/admin/practice").status_code == 303
    with space.store.read() as tx:
        assert tx.audit_entries(1)[0].action == "admin.logout"


def test_an_idle_session_ends_after_thirty_minutes(space: Space) -> None:
    client = logged_in_admin(space)
    for _ in range(3):
        space.web.clock.now += timedelta(minutes=29)
        assert client.get("/admin/practice").status_code == 200
    space.web.clock.now += timedelta(minutes=31)
    answer = client.get("/admin/practice")
    assert location(answer) == "/admin/login?next=/admin/practice"


def test_a_password_change_ends_other_sessions(space: Space) -> None:
    client = logged_in_admin(space)
    set_password(space.store, "admin", "another-password-2", "cli")
    assert client.get("/admin/practice").status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/therapist/"])
def test_the_page_after_the_login_is_always_one_of_the_panel(space: Space, target: str) -> None:
    answer = admin_log_in(space.web.new_client(), next_page=target)
    assert location(answer) == "/admin/practice"

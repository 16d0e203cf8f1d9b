"""Logging in to the therapist space, on SQLite and PostgreSQL: the CalDAV credentials (main
password only), throttled failures, CSRF, logout, idle timeout and the session's lifetime,
and sessions that end when the password changes or the therapist is deactivated."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from caldav_bridge.accounts import create_app_password, set_password
from caldav_bridge.store import Store
from tests.integration.test_therapist_support import (
    LOGIN_PAGE,
    PASSWORDS,
    Space,
    add_patient,
    log_in,
    logged_in,
    post_form,
    therapist_space,
)
from tests.support.web import configure, element, hidden_fields, location, text_of

GERMAN = {"Accept-Language": "de"}
PAGES = [
    "/therapist/",
    "/therapist/agenda",
    "/therapist/agenda?view=day&date=2026-12-02",
    "/therapist/appointments/new",
    "/therapist/appointments/0b1f2b9e-3c4f-4e8a-9b71-2f5c8d0e4a13",
    "/therapist/patients",
    "/therapist/patients/1",
    "/therapist/patients/new",
    "/therapist/account",
]


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return therapist_space(store, practice_toml)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_asks_a_visitor_to_log_in_first(space: Space, page: str) -> None:
    answer = space.client.get(page)
    assert answer.status_code == 303
    assert location(answer).startswith(LOGIN_PAGE)


def test_after_logging_in_the_visitor_gets_the_page_they_asked_for(space: Space) -> None:
    client = space.web.new_client()
    asked = client.get("/therapist/agenda?view=day&date=2026-12-02")
    assert (
        location(asked) == "/therapist/login?next=/therapist/agenda?view%3Dday%26date%3D2026-12-02"
    )
    login_page = client.get(location(asked))
    assert (
        hidden_fields(login_page, LOGIN_PAGE)["next"]
        == "/therapist/agenda?view=day&date=2026-12-02"
    )
    answer = post_form(client, login_page, LOGIN_PAGE, login="anne", password=PASSWORDS["anne"])
    assert location(answer) == "/therapist/agenda?view=day&date=2026-12-02"
    page = client.get(location(answer))
    assert element(page, "agenda-title") == "mercredi 2 décembre 2026"
    assert element(page, "logged-in-as") == "Anne Rochat"


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/book/", ""])
def test_the_page_after_the_login_is_always_one_of_the_space(space: Space, target: str) -> None:
    client = space.web.new_client()
    answer = log_in(client, next_page=target)
    assert location(answer) == "/therapist/agenda"


def test_a_wrong_password_is_refused_with_a_message_in_the_visitors_language(
    space: Space,
) -> None:
    client = space.web.new_client()
    page = client.get(LOGIN_PAGE, headers=GERMAN)
    answer = client.post(
        LOGIN_PAGE,
        data={**hidden_fields(page, LOGIN_PAGE), "login": "anne", "password": "wrong-password"},
        headers=GERMAN,
    )
    assert answer.status_code == 422
    assert element(answer, "login-problem") == "Login oder Passwort ist nicht korrekt."
    assert client.get("/therapist/agenda").status_code == 303


def test_empty_fields_get_a_message_next_to_them(space: Space) -> None:
    client = space.web.new_client()
    page = client.get(LOGIN_PAGE)
    answer = post_form(client, page, LOGIN_PAGE, login="", password="")
    assert answer.status_code == 422
    assert element(answer, "login-error") == "Veuillez saisir votre identifiant."
    assert element(answer, "password-error") == "Veuillez saisir votre mot de passe."


def test_repeated_failures_from_one_address_are_throttled(space: Space) -> None:
    client = space.web.new_client()
    for attempt in range(5):
        refused = log_in(client, password=f"wrong-password-{attempt}", address="203.0.113.7")
        assert refused.status_code == 422
    throttled = log_in(client, address="203.0.113.7")  # even the right password
    assert throttled.status_code == 429
    assert 0 < int(throttled.headers["Retry-After"]) <= 15 * 60
    assert element(throttled, "login-problem") == (
        "Trop de tentatives échouées. Veuillez réessayer dans 15 minutes."
    )
    assert client.get("/therapist/agenda").status_code == 303
    # Anne's own computer, at another address, is not locked out.
    elsewhere = space.web.new_client()
    assert location(log_in(elsewhere, address="198.51.100.20")) == "/therapist/agenda"


def test_the_same_wrong_password_again_is_not_counted_twice(space: Space) -> None:
    client = space.web.new_client()
    for _ in range(8):
        assert log_in(client, password="an-old-password", address="203.0.113.8").status_code == 422
    assert location(log_in(client, address="203.0.113.8")) == "/therapist/agenda"


def test_an_app_password_does_not_open_the_web_space(space: Space) -> None:
    device = create_app_password(space.store, "anne", "iPhone", "anne")
    client = space.web.new_client()
    answer = log_in(client, password=device.secret)
    assert answer.status_code == 422
    assert "mot de passe d’application" in element(answer, "login-problem")
    assert client.get("/therapist/agenda").status_code == 303


def test_the_admin_logs_in_elsewhere(space: Space) -> None:
    client = space.web.new_client()
    answer = log_in(client, "admin")
    assert answer.status_code == 422
    assert "panneau d’administration" in element(answer, "login-problem")
    assert client.get("/therapist/agenda").status_code == 303


def test_a_therapist_deactivated_in_the_configuration_cannot_log_in(
    store: Store, practice_toml: Path
) -> None:
    text = practice_toml.read_text(encoding="utf-8")
    practice_toml.write_text(
        text.replace('color = "#3C9A5F"\n', 'color = "#3C9A5F"\nactive = false\n'),
        encoding="utf-8",
    )
    space = therapist_space(store, practice_toml)
    client = space.web.new_client()
    answer = log_in(client, "marc")
    assert answer.status_code == 422
    assert "désactivé" in element(answer, "login-problem")
    assert client.get("/therapist/agenda").status_code == 303


def test_a_deactivated_login_ends_the_session_at_the_next_request(space: Space) -> None:
    client = logged_in(space)
    assert client.get("/therapist/agenda").status_code == 200
    with space.store.write() as tx:
        tx.set_active("anne", False)
    assert location(client.get("/therapist/agenda")).startswith(LOGIN_PAGE)
    assert log_in(client).status_code == 422


def test_logout_ends_the_session(space: Space) -> None:
    client = logged_in(space)
    page = client.get("/therapist/agenda")
    assert client.get("/therapist/logout").status_code == 405  # never by a link
    answer = post_form(client, page, "/therapist/logout")
    assert location(answer) == LOGIN_PAGE
    assert "Vous êtes déconnecté" in text_of(client.get(LOGIN_PAGE))
    assert location(client.get("/therapist/agenda")).startswith(LOGIN_PAGE)


def test_login_and_logout_need_the_forms_token(space: Space) -> None:
    client = space.web.new_client()
    client.get(LOGIN_PAGE)
    forged = client.post(LOGIN_PAGE, data={"login": "anne", "password": PASSWORDS["anne"]})
    assert forged.status_code == 400
    assert client.get("/therapist/agenda").status_code == 303
    client = logged_in(space)
    assert client.post("/therapist/logout").status_code == 400
    assert client.get("/therapist/agenda").status_code == 200


def test_logging_in_starts_a_new_session(space: Space) -> None:
    client = space.web.new_client()
    before = client.get(LOGIN_PAGE)
    old_token = hidden_fields(before, LOGIN_PAGE)["csrf_token"]
    log_in(client)
    page = client.get("/therapist/account")
    assert hidden_fields(page, "/therapist/account/app-passwords")["csrf_token"] != old_token
    stale = client.post(
        "/therapist/account/app-passwords", data={"csrf_token": old_token, "label": "x"}
    )
    assert stale.status_code == 400


def test_the_session_cookie_is_httponly_and_samesite(space: Space) -> None:
    answer = log_in(space.web.new_client())
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # the demo's public URL is http://


def test_the_session_cookie_is_secure_behind_https(store: Store, practice_toml: Path) -> None:
    configure(practice_toml, public_url='"https://praxis.example"')
    space = therapist_space(store, practice_toml)
    answer = log_in(space.web.new_client())
    assert "Secure" in answer.headers["Set-Cookie"]


def test_an_idle_session_ends_after_thirty_minutes(space: Space) -> None:
    client = logged_in(space)
    for _ in range(3):  # in use: each request keeps it open
        space.web.clock.now += timedelta(minutes=29)
        assert client.get("/therapist/agenda").status_code == 200
    space.web.clock.now += timedelta(minutes=31)
    answer = client.get("/therapist/patients")
    assert location(answer) == "/therapist/login?next=/therapist/patients"
    assert "Votre session a pris fin" in text_of(client.get(location(answer)))


def test_a_post_after_the_idle_timeout_changes_nothing(space: Space) -> None:
    patient = add_patient(space.store, "anne")
    client = logged_in(space)
    form = client.get(f"/therapist/patients/{patient.id}/edit")
    space.web.clock.now += timedelta(minutes=31)
    answer = post_form(
        client,
        form,
        f"/therapist/patients/{patient.id}/edit",
        first_name="Changed",
        last_name="Müller",
        language="fr",
    )
    assert location(answer) == LOGIN_PAGE
    with space.store.read() as tx:
        stored = tx.patient(patient.id)
    assert stored is not None
    assert stored.first_name == "Zoë"


def test_a_session_ends_after_twelve_hours_even_in_use(space: Space) -> None:
    client = logged_in(space)
    for _ in range(36):
        space.web.clock.now += timedelta(minutes=20)
        assert client.get("/therapist/agenda").status_code == 200
    space.web.clock.now += timedelta(minutes=1)
    assert location(client.get("/therapist/agenda")).startswith(LOGIN_PAGE)


def test_a_password_changed_elsewhere_ends_the_session(space: Space) -> None:
    client = logged_in(space)
    set_password(space.store, "anne", "a-brand-new-password", "admin")
    assert location(client.get("/therapist/agenda")).startswith(LOGIN_PAGE)
    assert log_in(client).status_code == 422
    assert location(log_in(client, password="a-brand-new-password")) == "/therapist/agenda"


def test_pages_speak_the_therapists_language_unless_another_is_chosen(space: Space) -> None:
    client = logged_in(space)
    page = client.get("/therapist/agenda?date=2026-12-02", headers=GERMAN)
    assert element(page, "agenda-title") == "Semaine du lundi 30 novembre 2026"
    client.post("/language", data={**hidden_fields(page, "/language"), "lang": "de"})
    again = client.get("/therapist/agenda?date=2026-12-02")
    assert element(again, "agenda-title") == "Woche ab Montag, 30. November 2026"


def test_therapist_pages_are_not_cached(space: Space) -> None:
    page = logged_in(space).get("/therapist/patients")
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

"""My account, on SQLite and PostgreSQL: the password (effective for CalDAV at once, other web
sessions end), app passwords for calendar apps (shown once, revocable), the CalDAV address and
the read-only feed's address (replaceable), with setup instructions in the page's language."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caldav_bridge.accounts import Authenticator, authenticate, create_app_password
from caldav_bridge.feed import feed_url
from caldav_bridge.store import Store
from tests.integration.test_therapist_support import (
    LOGIN_PAGE,
    PASSWORDS,
    Space,
    audit_actions,
    form_fields,
    logged_in,
    post_form,
    therapist_space,
)
from tests.support.web import element, location, text_of

ACCOUNT = "/therapist/account"
PASSWORD = "/therapist/account/password"
APP_PASSWORDS = "/therapist/account/app-passwords"
NEW_PASSWORD = "a-new-password-42"


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return therapist_space(store, practice_toml)


def change_password(
    client: FlaskClient, current: str, new: str = NEW_PASSWORD, again: str | None = None
) -> TestResponse:
    return post_form(
        client,
        client.get(ACCOUNT),
        PASSWORD,
        current_password=current,
        new_password=new,
        new_password_again=new if again is None else again,
    )


def test_a_new_password_works_for_caldav_at_once_and_ends_other_sessions(space: Space) -> None:
    client, elsewhere = logged_in(space), logged_in(space)
    answer = change_password(client, PASSWORDS["anne"])
    assert location(answer) == ACCOUNT
    assert "Votre mot de passe a été changé." in text_of(client.get(ACCOUNT))
    assert authenticate(space.store, "anne", NEW_PASSWORD) is not None
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is None
    assert client.get("/therapist/agenda").status_code == 200  # this session stays
    assert location(elsewhere.get("/therapist/agenda")).startswith(LOGIN_PAGE)
    assert ("anne", "password.set", "anne", "") in audit_actions(space.store)


def test_a_calendar_app_logged_in_with_the_old_password_is_refused_at_its_next_request(
    space: Space,
) -> None:
    # What Radicale logs in through, success cache included.
    caldav = Authenticator(space.store, space.web.runtime.secret_key)
    assert caldav.login("anne", PASSWORDS["anne"], "192.0.2.1").user is not None
    change_password(logged_in(space), PASSWORDS["anne"])
    assert caldav.login("anne", PASSWORDS["anne"], "192.0.2.1").user is None
    assert caldav.login("anne", NEW_PASSWORD, "192.0.2.1").user is not None


@pytest.mark.parametrize(
    ("current", "new", "again", "field", "message"),
    [
        (
            "wrong-password",
            NEW_PASSWORD,
            None,
            "current_password",
            "Votre mot de passe actuel est incorrect.",
        ),
        ("", NEW_PASSWORD, None, "current_password", "Veuillez saisir votre mot de passe actuel."),
        (
            PASSWORDS["anne"],
            "short",
            None,
            "new_password",
            "Le nouveau mot de passe doit compter au moins 10 caractères.",
        ),
        (
            PASSWORDS["anne"],
            NEW_PASSWORD,
            "a-new-password-43",
            "new_password_again",
            "Les deux nouveaux mots de passe ne sont pas identiques.",
        ),
        (
            PASSWORDS["anne"],
            "x" * 257,
            None,
            "new_password",
            "Le nouveau mot de passe peut compter au plus 256 caractères.",
        ),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    space: Space, current: str, new: str, again: str | None, field: str, message: str
) -> None:
    client = logged_in(space)
    answer = change_password(client, current, new, again)
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is not None


def test_an_app_password_is_not_the_current_password(space: Space) -> None:
    device = create_app_password(space.store, "anne", "iPhone", "anne")
    answer = change_password(logged_in(space), device.secret)
    assert answer.status_code == 422
    assert authenticate(space.store, "anne", NEW_PASSWORD) is None


def test_guessing_the_current_password_is_throttled(space: Space) -> None:
    client = logged_in(space)
    for attempt in range(5):
        assert change_password(client, f"guess-{attempt}-password").status_code == 422
    throttled = change_password(client, PASSWORDS["anne"])
    assert throttled.status_code == 429
    assert "Trop de tentatives échouées" in element(throttled, "current_password-error")
    assert authenticate(space.store, "anne", NEW_PASSWORD) is None


def test_an_app_password_is_shown_once_works_for_caldav_and_can_be_revoked(space: Space) -> None:
    client = logged_in(space)
    created = post_form(client, client.get(ACCOUNT), APP_PASSWORDS, label="iPhone de Anne")
    assert created.status_code == 200
    assert created.headers["Cache-Control"] == "no-store"
    secret = element(created, "new-app-password-secret")
    assert element(created, "new-app-password").startswith(
        "Le mot de passe d’application pour « iPhone de Anne » :"
    )
    assert authenticate(space.store, "anne", secret) is not None
    page = client.get(ACCOUNT)
    assert secret not in page.get_data(as_text=True)
    [password_id] = re.findall(r'id="app-password-(\d+)"', page.get_data(as_text=True))
    assert element(page, f"app-password-{password_id}").startswith("iPhone de Anne créé le")
    action = f"{APP_PASSWORDS}/{password_id}/revoke"
    revoked = client.get(location(post_form(client, page, action)))
    assert "Le mot de passe d’application a été révoqué" in text_of(revoked)
    assert (
        element(revoked, "no-app-passwords") == "Aucun mot de passe d’application pour l’instant."
    )
    assert authenticate(space.store, "anne", secret) is None
    actions = [action for _, action, _, _ in audit_actions(space.store)]
    assert "app_password.create" in actions
    assert "app_password.revoke" in actions


def test_an_app_password_needs_a_device_name(space: Space) -> None:
    client = logged_in(space)
    answer = post_form(client, client.get(ACCOUNT), APP_PASSWORDS, label="  ")
    assert answer.status_code == 422
    assert element(answer, "label-error") == (
        "Veuillez nommer l’appareil en 100 caractères au plus, p. ex. iPhone."
    )
    with space.store.read() as tx:
        assert tx.app_passwords("anne") == []


def test_a_colleagues_app_password_cannot_be_revoked(space: Space) -> None:
    theirs = create_app_password(space.store, "marc", "Android", "marc")
    client = logged_in(space)
    page = client.get(ACCOUNT)
    answer = client.post(
        f"{APP_PASSWORDS}/{theirs.id}/revoke", data=dict(form_fields(page, APP_PASSWORDS))
    )
    assert "Ce mot de passe d’application n’existe plus." in text_of(client.get(location(answer)))
    assert authenticate(space.store, "marc", theirs.secret) is not None


def test_the_caldav_address_and_the_feed_which_can_be_replaced(space: Space) -> None:
    client = logged_in(space)
    page = client.get(ACCOUNT)
    assert element(page, "caldav-url") == "http://127.0.0.1:8080/dav/anne/"
    assert element(page, "caldav-user") == "anne"
    assert element(page, "caldav-server") == "127.0.0.1:8080"
    assert "no-https" in page.get_data(as_text=True)
    old = feed_url(space.web.runtime, "anne")
    assert f'value="{old}"' in page.get_data(as_text=True)
    old_path = old.removeprefix("http://127.0.0.1:8080")
    assert client.get(old_path).status_code == 200
    answer = post_form(client, page, "/therapist/account/feed/revoke")
    replaced = client.get(location(answer))
    new = feed_url(space.web.runtime, "anne")
    assert new != old
    assert f'value="{new}"' in replaced.get_data(as_text=True)
    assert client.get(old_path).status_code == 404
    assert client.get(new.removeprefix("http://127.0.0.1:8080")).status_code == 200


@pytest.mark.parametrize(
    ("language", "apple", "davx5"),
    [
        ("fr", "Calendrier → Réglages → Comptes → « + » → Autre compte CalDAV.", "URL de base :"),
        ("de", "Kalender → Einstellungen → Accounts → „+“ → Anderer CalDAV-Account.", "Basis-URL:"),
        ("it", "Calendario → Impostazioni → Account → «+» → Altro account CalDAV.", "URL di base:"),
        ("en", "Calendar → Settings → Accounts → “+” → Other CalDAV Account.", "Base URL:"),
    ],
)
def test_setup_instructions_speak_the_pages_language(
    space: Space, language: str, apple: str, davx5: str
) -> None:
    client = logged_in(space)
    page = client.get(ACCOUNT)
    client.post("/language", data={**form_fields(page, "/language"), "lang": language})
    page = client.get(ACCOUNT)
    assert element(page, "setup-macos").startswith(apple)
    assert davx5 in element(page, "setup-davx5")
    assert "http://127.0.0.1:8080/dav/anne/" in element(page, "setup-thunderbird")
    assert "127.0.0.1:8080" in element(page, "setup-ios")

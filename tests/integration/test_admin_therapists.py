"""Therapists' logins in the admin panel, on SQLite and PostgreSQL: a password set by the
admin works in CalDAV at once (the store's authenticate), deactivation ends web and CalDAV
access and is refused while appointments are to come, reactivation restores access."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.accounts import authenticate
from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.store import PatientDetails, Store
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin, submit
from tests.integration.test_therapist_support import PASSWORDS, at, log_in
from tests.support.web import element, location

PAGE = "/admin/therapists/anne"


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def book_anne(space: Space, start: str) -> None:
    patient = PatientDetails("Zoë", "Müller", "zoe@example.org", "+41791234567", "fr")
    request = BookingRequest("seance-75", "anne", at(start), patient, consent=True)
    book(space.store, space.web.runtime.config, request, space.web.clock.now)


def test_the_list_shows_each_therapist(admin: FlaskClient) -> None:
    page = admin.get("/admin/therapists")
    assert element(page, "therapist-anne") == "Anne Rochat anne défini actif"


def test_a_password_set_by_the_admin_works_in_caldav_at_once(
    space: Space, admin: FlaskClient
) -> None:
    fields = {"password": "brand-new-secret-9", "password2": "brand-new-secret-9"}
    answer = submit(admin, admin.get(PAGE), f"{PAGE}/password", fields, "password-form")
    assert location(answer) == PAGE
    assert authenticate(space.store, "anne", "brand-new-secret-9") is not None
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is None
    with space.store.read() as tx:
        entry = tx.audit_entries(1)[0]
    assert (entry.actor, entry.action, entry.subject) == ("admin", "password.set", "anne")


def test_a_generated_password_is_shown_once_and_works(space: Space, admin: FlaskClient) -> None:
    answer = submit(admin, admin.get(PAGE), f"{PAGE}/password", {}, "generate-form")
    assert answer.status_code == 200
    assert answer.headers["Cache-Control"] == "no-store"
    password = element(answer, "new-password")
    assert authenticate(space.store, "anne", password) is not None
    assert 'id="new-password"' not in admin.get(PAGE).get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "again", "field", "message"),
    [
        (
            "short",
            "short",
            "password",
            "Le nouveau mot de passe doit compter au moins 10 caractères.",
        ),
        (
            "long-enough-1",
            "long-enough-2",
            "password2",
            "Les deux mots de passe ne sont pas identiques.",
        ),
    ],
)
def test_an_unacceptable_password_is_refused_next_to_the_field(
    space: Space, admin: FlaskClient, password: str, again: str, field: str, message: str
) -> None:
    fields = {"password": password, "password2": again}
    answer = submit(admin, admin.get(PAGE), f"{PAGE}/password", fields, "password-form")
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is not None


def test_a_deactivated_therapist_can_no_longer_log_in(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    space.web.runtime.config_source.interval = 0.0  # follow the file at once
    therapist = space.web.new_client()
    assert location(log_in(therapist, "anne")) == "/therapist/agenda"
    answer = submit(admin, admin.get(PAGE), f"{PAGE}/deactivate", {})
    assert location(answer) == PAGE
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is None  # CalDAV
    assert location(therapist.get("/therapist/agenda")).startswith("/therapist/login")
    assert log_in(space.web.new_client(), "anne").status_code == 422
    text = practice_toml.read_text(encoding="utf-8")
    assert '[therapists.anne]\nname = "Anne Rochat"' in text
    assert "active = false" in text
    with space.store.read() as tx:
        actions = [entry.action for entry in tx.audit_entries(3)]
    assert actions[:2] == ["settings.therapist", "therapist.deactivate"]
    # Reactivated, Anne logs in again.
    page = admin.get(PAGE)
    assert location(submit(admin, page, f"{PAGE}/reactivate", {})) == PAGE
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is not None
    assert "active = false" not in practice_toml.read_text(encoding="utf-8")
    assert location(log_in(space.web.new_client(), "anne")) == "/therapist/agenda"


def test_deactivation_is_refused_while_appointments_are_to_come(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    book_anne(space, "2026-12-02 14:00")
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, admin.get(PAGE), f"{PAGE}/deactivate", {})
    assert answer.status_code == 409
    assert element(answer, "upcoming-1") == "mercredi 2 décembre 2026, 14:00 · Séance (75 min)"
    assert authenticate(space.store, "anne", PASSWORDS["anne"]) is not None
    assert practice_toml.read_text(encoding="utf-8") == before
    # Once the appointment is over, the therapist can be deactivated.
    space.web.clock.now = at("2026-12-02 15:15") + timedelta(minutes=1)
    admin = logged_in_admin(space)
    assert location(submit(admin, admin.get(PAGE), f"{PAGE}/deactivate", {})) == PAGE


def test_an_unknown_login_or_the_admin_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/therapists/nobody").status_code == 404
    assert admin.get("/admin/therapists/admin").status_code == 404

"""Services ("prestations") in the admin panel, on SQLite and PostgreSQL: a new service lands
in ``practice.toml`` (comments kept) and is offered for booking with the right slots; an
edit changes only what changed and the slots follow; a deactivated service is no longer
offered while its appointments stay; invalid, stale or read-only forms change nothing."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.store import PatientDetails, Store
from tests.integration.test_admin_practice import hand_edit
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin, submit
from tests.integration.test_therapist_support import at
from tests.support.web import attribute, configure, element, location, text_of

NEW = "/admin/new-service"
SEANCE = "/admin/services/seance-75"
WEDNESDAY = "2026-12-02"  # Anne works 14:00-18:00
FIELDS: dict[str, str | list[str]] = {
    "id": "bilan-60",
    "name-fr": "Bilan (60 min)",
    "name-de": "Standortbestimmung (60 Min.)",
    "name-it": "Bilancio (60 min)",
    "name-en": "Assessment (60 min)",
    "duration_minutes": "60",
    "availability": "fixed",
    "therapists": ["anne"],
    "active": "1",
}


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def services_in(path: Path) -> dict[str, Any]:
    found = tomllib.loads(path.read_text(encoding="utf-8"))["services"]
    assert isinstance(found, dict)
    return found


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def starts(space: Space, service: str, therapist: str = "anne") -> list[str] | int:
    """The local start times the booking API offers on Wednesday, or its error status."""
    answer = space.web.new_client().get(
        "/api/v1/slots",
        query_string={"service": service, "therapist": therapist, "from": WEDNESDAY, "days": 1},
    )
    if answer.status_code != 200:
        return answer.status_code
    return [slot["start"][11:16] for slot in answer.get_json()]


def last_audit(space: Space) -> tuple[str, str, str, str]:
    with space.store.read() as tx:
        entry = tx.audit_entries(1)[0]
    return entry.actor, entry.action, entry.subject, entry.details


def test_the_list_shows_every_service_and_the_nav_leads_to_it(
    admin: FlaskClient, practice_toml: Path
) -> None:
    hand_edit(practice_toml, "duration_minutes = 45\n", "duration_minutes = 45\nactive = false\n")
    page = admin.get("/admin/services")
    assert element(page, "nav-services") == "Prestations"
    assert element(page, "service-seance-75") == (
        "Séance (75 min) seance-75 75 min fixes Anne Rochat, Marc Favre actif"
    )
    assert element(page, "service-suivi-45") == (
        "Suivi (45 min) suivi-45 45 min libres Anne Rochat, Marc Favre désactivé"
    )
    assert attribute(page, "new-service", "href") == NEW


def test_a_new_service_lands_in_the_file_and_is_offered_for_booking(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, admin.get(NEW), NEW, FIELDS)
    assert location(answer) == "/admin/services/bilan-60"
    after = practice_toml.read_text(encoding="utf-8")
    assert comments(after) == comments(before)
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    assert [line for line in diff if line.startswith("- ")] == []  # only lines added
    assert after.endswith(
        'therapists = ["anne", "marc"]\n\n[services.bilan-60]\nname = {fr = "Bilan (60 min)", '
        'de = "Standortbestimmung (60 Min.)", it = "Bilancio (60 min)", '
        'en = "Assessment (60 min)"}\nduration_minutes = 60\navailability = "fixed"\n'
        'therapists = ["anne"]\n'
    )
    assert last_audit(space) == (
        "admin",
        "service.create",
        "bilan-60",
        "keys=name,duration_minutes,availability,therapists",
    )
    # The booking API offers it at once, chained from the start of Anne's period.
    assert starts(space, "bilan-60") == ["14:00", "15:00", "16:00", "17:00"]
    assert starts(space, "bilan-60", "marc") == 400  # marc does not offer it
    assert "Bilan (60 min)" in text_of(space.web.new_client().get("/book/"))
    assert element(admin.get("/admin/services/bilan-60"), "save") == "Enregistrer"


def test_a_new_flexible_service_with_its_own_slot_settings(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    fields = {
        **FIELDS,
        "availability": "flexible",
        "flexible_step_minutes": "30",
        "buffer_minutes": "15",
    }
    assert location(submit(admin, admin.get(NEW), NEW, fields)) == "/admin/services/bilan-60"
    service = services_in(practice_toml)["bilan-60"]
    assert (service["flexible_step_minutes"], service["buffer_minutes"]) == (30, 15)
    assert "fixed_last_slot" not in service
    # The buffer may run past closing time: the last start still ends at 18:00.
    assert starts(space, "bilan-60") == [
        "14:00",
        "14:30",
        "15:00",
        "15:30",
        "16:00",
        "16:30",
        "17:00",
    ]


def test_editing_the_duration_changes_the_slots_and_only_that_line(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    assert starts(space, "seance-75") == ["14:00", "15:15", "16:30", "17:45"]
    before = practice_toml.read_text(encoding="utf-8")
    page = admin.get(SEANCE)
    assert attribute(page, "name-fr", "value") == "Séance (75 min)"
    assert 'id="therapist-marc" checked' in page.get_data(as_text=True)
    answer = submit(admin, page, SEANCE, {"duration_minutes": "60"})
    assert location(answer) == SEANCE
    after = practice_toml.read_text(encoding="utf-8")
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    assert [line for line in diff if line[:2] in ("- ", "+ ")] == [
        "- duration_minutes = 75",
        "+ duration_minutes = 60",
    ]
    assert last_audit(space) == ("admin", "settings.service", "seance-75", "keys=duration_minutes")
    assert starts(space, "seance-75") == ["14:00", "15:00", "16:00", "17:00"]


def test_a_slot_setting_overrides_the_practice_until_it_is_emptied(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    answer = submit(admin, admin.get(SEANCE), SEANCE, {"fixed_last_slot": "must_fit"})
    assert location(answer) == SEANCE
    assert services_in(practice_toml)["seance-75"]["fixed_last_slot"] == "must_fit"
    assert starts(space, "seance-75") == ["14:00", "15:15", "16:30"]  # 17:45 would overrun
    page = admin.get(SEANCE)
    assert element(page, "fixed_last_slot") == (
        "Réglage du cabinet (peut dépasser la fin de la période) peut dépasser la fin de la "
        "période doit tenir dans la période"
    )
    assert location(submit(admin, page, SEANCE, {"fixed_last_slot": ""})) == SEANCE
    assert "fixed_last_slot" not in services_in(practice_toml)["seance-75"]
    assert starts(space, "seance-75") == ["14:00", "15:15", "16:30", "17:45"]


def test_a_deactivated_service_is_no_longer_offered_and_its_appointments_stay(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    patient = PatientDetails("Zoë", "Müller", "zoe@example.org", "+41791234567", "fr")
    request = BookingRequest("seance-75", "anne", at("2026-12-02 14:00"), patient, consent=True)
    booked = book(space.store, space.web.runtime.config, request, space.web.clock.now)
    fields = {"active": []}  # the box unticked
    assert location(submit(admin, admin.get(SEANCE), SEANCE, fields)) == SEANCE
    assert services_in(practice_toml)["seance-75"]["active"] is False
    assert starts(space, "seance-75") == 404
    assert 'id="service-seance-75"' not in space.web.new_client().get("/book/").get_data(
        as_text=True
    )
    assert element(admin.get("/admin/services"), "service-seance-75").endswith("désactivé")
    with space.store.read() as tx:
        kept = tx.appointment(booked.appointment.uid)
    assert kept is not None
    assert (kept.status, kept.service) == ("confirmed", "seance-75")
    # Reactivated, it is offered again (and the key is gone from the file).
    assert location(submit(admin, admin.get(SEANCE), SEANCE, {"active": "1"})) == SEANCE
    assert "active" not in services_in(practice_toml)["seance-75"]
    assert starts(space, "seance-75") == ["15:15", "16:30", "17:45"]  # 14:00 is booked


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name-de", "", "Veuillez saisir le nom de la prestation dans cette langue."),
        ("duration_minutes", "0", "Veuillez saisir une durée en minutes, de 5 à 600."),
        ("duration_minutes", "-30", "Veuillez saisir une durée en minutes, de 5 à 600."),
        ("duration_minutes", "une heure", "Veuillez saisir une durée en minutes, de 5 à 600."),
        ("therapists", ["anne", "nobody"], "Veuillez choisir des thérapeutes dans la liste."),
        ("id", "seance-75", "Une prestation avec cet identifiant existe déjà."),
        (
            "id",
            "Bilan 60",
            "Veuillez utiliser des lettres minuscules, des chiffres, - ou _ (63 au plus), en "
            "commençant par une lettre ou un chiffre.",
        ),
        ("id", "", "Veuillez saisir un identifiant, p. ex. massage-60."),
        (
            "buffer_minutes",
            "500",
            "Veuillez saisir un nombre de minutes de 0 à 240, ou laisser vide pour le réglage "
            "du cabinet.",
        ),
        ("fixed_anchor", "sometimes", "Veuillez choisir l’une des options proposées."),
        ("availability", "", "Veuillez choisir des créneaux fixes ou libres."),
    ],
)
def test_an_invalid_new_service_gets_a_message_next_to_the_field_and_nothing_is_saved(
    admin: FlaskClient, practice_toml: Path, field: str, value: str | list[str], message: str
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, admin.get(NEW), NEW, {**FIELDS, field: value})
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    assert practice_toml.read_text(encoding="utf-8") == before


def test_an_invalid_edit_keeps_the_entries_and_changes_nothing(
    admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    fields = {"duration_minutes": "0", "name-fr": "Séance longue", "therapists": []}
    answer = submit(admin, admin.get(SEANCE), SEANCE, fields)
    assert answer.status_code == 422
    assert element(answer, "duration_minutes-error") == (
        "Veuillez saisir une durée en minutes, de 5 à 600."
    )
    assert element(answer, "therapists-error") == (
        "Veuillez choisir au moins un ou une thérapeute qui propose cette prestation."
    )
    assert attribute(answer, "name-fr", "value") == "Séance longue"
    assert practice_toml.read_text(encoding="utf-8") == before


def test_a_stale_form_is_refused_and_keeps_the_entries(
    admin: FlaskClient, practice_toml: Path
) -> None:
    page = admin.get(SEANCE)
    hand_edit(
        practice_toml,
        'duration_minutes = 75\navailability = "fixed"',
        'duration_minutes = 90\navailability = "fixed"',
    )
    answer = submit(admin, page, SEANCE, {"name-fr": "Séance longue"})
    assert answer.status_code == 409
    assert element(answer, "form-problem").startswith(
        "Le fichier de configuration a été modifié depuis l’ouverture de ce formulaire"
    )
    assert services_in(practice_toml)["seance-75"]["duration_minutes"] == 90
    assert services_in(practice_toml)["seance-75"]["name"]["fr"] == "Séance (75 min)"
    assert attribute(answer, "name-fr", "value") == "Séance longue"
    assert element(answer, "duration_minutes-in-file") == "Dans le fichier maintenant : 90"
    assert element(answer, "name-fr-in-file") == "Dans le fichier maintenant : Séance (75 min)"
    # Saving again, on purpose, applies the admin's entries over the current file.
    again = submit(admin, answer, SEANCE, {"name-fr": "Séance longue", "duration_minutes": "90"})
    assert location(again) == SEANCE
    assert services_in(practice_toml)["seance-75"]["name"]["fr"] == "Séance longue"
    assert services_in(practice_toml)["seance-75"]["duration_minutes"] == 90


def test_a_read_only_configuration_is_shown_but_not_changed(
    space: Space, practice_toml: Path
) -> None:
    configure(practice_toml, config_read_only="true")
    space.web.runtime.config_source.interval = 0.0
    admin = logged_in_admin(space)
    page = admin.get(NEW)
    assert element(page, "read-only").startswith("La configuration est en lecture seule")
    assert 'id="save"' not in page.get_data(as_text=True)
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, page, NEW, FIELDS)
    assert answer.status_code == 403
    assert element(answer, "form-problem").startswith(
        "La configuration de cette installation est en lecture seule"
    )
    edit = {**FIELDS, "name-fr": "Séance (75 min)", "therapists": ["anne", "marc"]}
    answer = submit(admin, admin.get(SEANCE), SEANCE, edit)  # all fields, as a script would
    assert answer.status_code == 403
    assert practice_toml.read_text(encoding="utf-8") == before


def test_an_unknown_service_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/services/nothing").status_code == 404

"""The practice's settings in the admin panel, on SQLite and PostgreSQL: the panel and
``practice.toml`` agree both ways (comments kept), invalid values and stale forms change
nothing, and a read-only deployment only shows the settings."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.store import Store
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin, submit
from tests.support.web import attribute, configure, element, location

PAGE = "/admin/practice"


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def hand_edit(path: Path, old: str, new: str) -> None:
    """Change one line of the file as an admin with an editor would."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def practice_in(path: Path) -> dict[str, object]:
    section = tomllib.loads(path.read_text(encoding="utf-8"))["practice"]
    assert isinstance(section, dict)
    return section


def test_a_panel_edit_lands_in_the_file_with_its_comments(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    page = admin.get(PAGE)
    answer = submit(
        admin,
        page,
        PAGE,
        {
            "name": "Cabinet du Lac & Associés",
            "address": "Avenue de Rhodanie 58, 1007 Lausanne",
            "phone": "+41 21 555 01 99",
            "email": "contact@cabinet-du-lac.example",
            "timezone": "Europe/Zurich",
            "languages": ["de", "fr"],
            "default_language": "de",
            "privacy": "full_name",
        },
    )
    assert location(answer) == PAGE
    after = practice_toml.read_text(encoding="utf-8")
    comments = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert comments == [line for line in after.splitlines() if line.lstrip().startswith("#")]
    assert practice_in(practice_toml) == {
        "name": "Cabinet du Lac & Associés",
        "address": "Avenue de Rhodanie 58, 1007 Lausanne",
        "phone": "+41 21 555 01 99",
        "email": "contact@cabinet-du-lac.example",
        "timezone": "Europe/Zurich",
        "languages": ["de", "fr"],
        "privacy": "full_name",
    }
    changed = [
        (a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b
    ]
    assert len(changed) == 4  # name, phone, languages, privacy: nothing else moved
    with space.store.read() as tx:
        entry = tx.audit_entries(1)[0]
    assert (entry.actor, entry.action) == ("admin", "settings.practice")
    assert entry.details == "keys=name,phone,languages,privacy"
    shown = admin.get(PAGE)
    assert attribute(shown, "name", "value") == "Cabinet du Lac & Associés"
    assert attribute(shown, "default_language", "name") == "default_language"


def test_a_hand_edit_shows_up_in_the_panel(admin: FlaskClient, practice_toml: Path) -> None:
    hand_edit(practice_toml, 'name = "Cabinet du Lac"', 'name = "Cabinet des Alpes"')
    hand_edit(practice_toml, 'privacy = "initials"', 'privacy = "full_name"')
    page = admin.get(PAGE)
    assert attribute(page, "name", "value") == "Cabinet des Alpes"
    assert 'id="privacy-full_name" checked' in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Veuillez saisir le nom du cabinet."),
        (
            "email",
            "not-an-address",
            "Veuillez saisir une adresse e-mail valide, p. ex. nom@exemple.ch.",
        ),
        (
            "phone",
            "call me",
            "Veuillez saisir un numéro de téléphone valide, p. ex. +41 21 555 01 00.",
        ),
        (
            "timezone",
            "Mars/Olympus",
            "Veuillez saisir un fuseau horaire connu, p. ex. Europe/Zurich.",
        ),
        (
            "address",
            "Rue 1\r\nBcc: x@example.org",
            "Veuillez utiliser au plus 200 caractères sur une seule ligne.",
        ),
    ],
)
def test_an_invalid_value_gets_a_message_next_to_it_and_nothing_is_saved(
    admin: FlaskClient, practice_toml: Path, field: str, value: str, message: str
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, admin.get(PAGE), PAGE, {**_valid(), field: value})
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    assert practice_toml.read_text(encoding="utf-8") == before


def test_languages_need_the_default_among_them(admin: FlaskClient, practice_toml: Path) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    fields = {**_valid(), "languages": ["fr"], "default_language": "it"}
    answer = submit(
        admin,
        admin.get(PAGE),
        PAGE,
        fields,
    )
    assert answer.status_code == 422
    assert element(answer, "languages-error") == (
        "Veuillez choisir au moins une langue, dont la langue par défaut."
    )
    assert practice_toml.read_text(encoding="utf-8") == before


def test_messages_follow_the_admins_language(space: Space) -> None:
    admin = logged_in_admin(space)
    admin.environ_base["HTTP_ACCEPT_LANGUAGE"] = "de"  # a German browser, on every request
    answer = submit(admin, admin.get(PAGE), PAGE, {**_valid(), "name": ""})
    assert element(answer, "name-error") == "Bitte geben Sie den Namen der Praxis ein."


def test_a_file_changed_since_the_form_was_opened_is_not_overwritten(
    admin: FlaskClient, practice_toml: Path
) -> None:
    page = admin.get(PAGE)
    hand_edit(practice_toml, 'phone = "+41 21 555 01 00"', 'phone = "+41 21 555 77 77"')
    answer = submit(admin, page, PAGE, {**_valid(), "name": "Nouveau nom"})
    assert answer.status_code == 409
    assert element(answer, "form-problem").startswith(
        "Le fichier de configuration a été modifié depuis l’ouverture de ce formulaire"
    )
    assert practice_in(practice_toml)["phone"] == "+41 21 555 77 77"
    assert practice_in(practice_toml)["name"] == "Cabinet du Lac"
    # Nothing is lost: the admin's entry is still in the form, the file's value next to it.
    assert attribute(answer, "name", "value") == "Nouveau nom"
    assert element(answer, "phone-in-file") == "Dans le fichier maintenant : +41 21 555 77 77"
    # Saving again, on purpose, applies the admin's entries over the current file.
    again = submit(admin, answer, PAGE, {**_valid(), "name": "Nouveau nom"})
    assert location(again) == PAGE
    assert practice_in(practice_toml)["name"] == "Nouveau nom"


def test_a_read_only_configuration_is_shown_but_not_changed(
    space: Space, practice_toml: Path
) -> None:
    configure(practice_toml, config_read_only="true")
    space.web.runtime.config_source.interval = 0.0
    admin = logged_in_admin(space)
    page = admin.get(PAGE)
    assert element(page, "read-only").startswith("La configuration est en lecture seule")
    assert 'name="name" type="text" value="Cabinet du Lac" maxlength="200" required disabled' in (
        page.get_data(as_text=True)
    )
    assert 'id="save"' not in page.get_data(as_text=True)
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, page, PAGE, {**_valid(), "name": "Autre"})
    assert answer.status_code == 403
    assert practice_toml.read_text(encoding="utf-8") == before


def test_a_post_without_the_csrf_token_changes_nothing(
    admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    answer = admin.post(PAGE, data={**_valid(), "version": "x"})
    assert answer.status_code == 400
    assert practice_toml.read_text(encoding="utf-8") == before


def _valid() -> dict[str, str | list[str]]:
    return {
        "name": "Cabinet du Lac",
        "address": "Avenue de Rhodanie 58, 1007 Lausanne",
        "phone": "+41 21 555 01 00",
        "email": "contact@cabinet-du-lac.example",
        "timezone": "Europe/Zurich",
        "languages": ["fr", "de", "it", "en"],
        "default_language": "fr",
        "privacy": "initials",
    }

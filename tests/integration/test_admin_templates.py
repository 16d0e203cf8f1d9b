"""The messages' texts in the admin panel, on SQLite and PostgreSQL: a preview with sample data
in the chosen language, a saved text used by the watcher's next real email (a real SMTP server
on loopback), texts that do not render refused with the line named, reset to the default,
stale and read-only forms refused, and a text edited by hand used without a restart."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.store import Store
from tests.integration.test_admin_notifications import notifications_panel
from tests.integration.test_admin_support import Space, logged_in_admin, submit
from tests.support.notify import HANS, Practice, close_practices, open_practice
from tests.support.notify import configure as point_at
from tests.support.smtp import SmtpServer
from tests.support.web import attribute, configure, element, location, text_of

LIST = "/admin/notifications/templates"
CUSTOM = (
    "Votre rendez-vous du {{ when.date }}\n\n"
    "Bonjour {{ patient.first_name }},\nà bientôt chez {{ practice.name }}.\n"
)


def page_of(language: str, name: str) -> str:
    return f"{LIST}/{language}/{name}"


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return notifications_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


@pytest.fixture
def templates(practice_dir: Path) -> Path:
    """The practice's templates folder (next to practice.toml)."""
    return practice_dir / "templates"


@pytest.fixture
def practice(practice_toml: Path, database_url: str, smtp: SmtpServer) -> Practice:
    """The watcher as `serve` builds it, sending through the loopback SMTP server."""
    return open_practice(point_at(practice_toml, smtp), database_url)


def save(admin: FlaskClient, language: str, name: str, text: str) -> object:
    page = page_of(language, name)
    return submit(admin, admin.get(page), page, {"text": text, "do": "save"}, "template-form")


def last_audit(space: Space) -> tuple[str, str, str]:
    with space.store.read() as tx:
        entry = tx.audit_entries(1)[0]
    return entry.actor, entry.action, entry.subject


def test_the_list_shows_each_message_per_language(admin: FlaskClient, templates: Path) -> None:
    (templates / "de").mkdir(parents=True)
    (templates / "de" / "sms_reminder.txt").write_text("Hallo {{ first_name }}", encoding="utf-8")
    page = admin.get(LIST)
    assert page.status_code == 200
    assert element(page, "template-booked_patient").startswith(
        "Confirmation de réservation, au patient (e-mail)"
    )
    assert element(page, "edit-fr-sms_reminder") == "texte par défaut"
    assert element(page, "edit-de-sms_reminder") == "texte personnalisé"
    assert attribute(page, "edit-it-cancelled_therapist", "href") == (
        f"{LIST}/it/cancelled_therapist"
    )


def test_the_page_shows_the_current_text_and_its_preview(admin: FlaskClient) -> None:
    page = admin.get(page_of("fr", "booked_patient"))
    assert element(page, "template-state") == "Texte par défaut (le cabinet ne l’a pas modifié)."
    assert element(page, "text").startswith(
        "Rendez-vous confirmé : {{ when.date }} à {{ when.time }}"
    )
    assert element(page, "preview-subject") == "Rendez-vous confirmé : lundi, 4 mars 2030 à 14:15"
    assert "Prestation : Séance (75 min)" in element(page, "preview-text")


def test_a_preview_renders_the_edited_text_in_its_language_and_saves_nothing(
    space: Space, admin: FlaskClient, templates: Path
) -> None:
    text = (
        "Termin für {{ patient.first_name }}: {{ when.date }}\n\n"
        "Guten Tag {{ patient.first_name }},\n\nbis {{ when.time }} bei {{ practice.name }}.\n"
    )
    page = page_of("de", "booked_patient")
    answer = submit(admin, admin.get(page), page, {"text": text, "do": "preview"})
    assert answer.status_code == 200
    assert element(answer, "preview-subject") == "Termin für Zoë: Montag, 4. März 2030"
    assert element(answer, "preview-text") == "Guten Tag Zoë, bis 14:15 bei Cabinet du Lac."
    html = attribute(answer, "preview-html", "srcdoc")
    assert html is not None
    assert "Guten Tag Zoë," in html
    assert '<html lang="de">' in html
    # The frame may apply the email's own style attributes, and no other inline style.
    policy = answer.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-hashes' 'sha256-" in policy
    assert "unsafe-inline" not in policy
    assert element(answer, "text") == " ".join(text.split())  # the draft stays in the form
    assert not templates.exists()
    assert last_audit(space)[1] == "admin.login"


def test_an_sms_preview_counts_its_characters_and_parts(admin: FlaskClient) -> None:
    text = "Rappel {{ first_name }} : {{ date }} à {{ time }}. {{ practice }}"
    page = page_of("fr", "sms_reminder")
    answer = submit(admin, admin.get(page), page, {"text": text, "do": "preview"})
    shown = "Rappel Zoë : lun. 4 mars à 14:15. Cabinet du Lac"
    assert element(answer, "preview-sms") == shown
    assert element(answer, "sms-size") == (
        f"{len(shown)} caractères : envoyé en 1 SMS. Certains caractères sont hors de "
        "l’alphabet SMS de base (ë) : un SMS ne contient alors que 70 caractères (67 par partie)."
    )
    assert "first_name" in element(answer, "template-names")
    assert "service" not in element(answer, "template-names")


def test_a_saved_text_is_used_by_the_next_booking_email(
    space: Space, admin: FlaskClient, templates: Path, practice: Practice, smtp: SmtpServer
) -> None:
    practice.book("2026-12-02 15:15")
    practice.run()  # the watcher renders (and caches) the default text first
    assert smtp.to("zoe@example.org")[0].subject == (
        "Rendez-vous confirmé : mercredi, 2 décembre 2026 à 15:15"
    )
    answer = save(admin, "fr", "booked_patient", CUSTOM)
    assert location(answer) == page_of("fr", "booked_patient")
    assert (templates / "fr" / "booked_patient.txt").read_text(encoding="utf-8") == CUSTOM
    assert last_audit(space) == ("admin", "template.save", "templates/fr/booked_patient")
    shown = admin.get(page_of("fr", "booked_patient"))
    assert element(shown, "template-state") == (
        "Texte personnalisé du cabinet (templates/fr/booked_patient.txt)."
    )
    assert "Le texte est enregistré : le prochain message l’utilise." in text_of(shown)

    practice.book("2026-12-03 15:15")
    practice.book("2026-12-03 16:30", HANS)  # German: the German default still applies
    practice.run()
    mail = smtp.to("zoe@example.org")[-1]
    assert mail.subject == "Votre rendez-vous du jeudi, 3 décembre 2026"
    assert mail.part("text/plain").splitlines() == [
        "Bonjour Zoë,",
        "à bientôt chez Cabinet du Lac.",
    ]
    assert smtp.to("hans@example.org")[-1].subject.startswith("Termin bestätigt:")


@pytest.mark.parametrize(
    ("language", "name", "text", "problem"),
    [
        (
            "fr",
            "booked_patient",
            "Objet\n\n{{ patient.first_name }\n",
            "Ligne 3 : la syntaxe du modèle n’est pas valide (unexpected '}').",
        ),
        (
            "fr",
            "booked_patient",
            "Objet\n\nBonjour {{ patient.first_name }}\n"
            "{% if by_role == 'therapist' %}{{ therapeute }}{% endif %}\n",
            "Ligne 4 : « therapeute » n’est pas une valeur connue de ce message.",
        ),
        (
            "fr",
            "booked_patient",
            "Objet\n\n{{ patient.age }}\n",
            "Ligne 3 : ce texte ne peut pas être produit ('dict object' has no attribute 'age').",
        ),
        (
            "fr",
            "sms_reminder",
            "Bonjour {{ first_name }},\nvotre {{ service }} le {{ date }}",
            "Ligne 2 : un SMS ne peut pas afficher « service ». Pour la confidentialité du "
            "patient, un SMS ne mentionne jamais la prestation, le thérapeute ni le lieu.",
        ),
        (
            "it",
            "sms_booked",
            "Ciao {{ first_name }} da {{ therapist.name }}",
            "Ligne 1 : un SMS ne peut pas afficher « therapist ». Pour la confidentialité du "
            "patient, un SMS ne mentionne jamais la prestation, le thérapeute ni le lieu.",
        ),
        ("fr", "changed_patient", "  \n ", "Veuillez saisir le texte du message."),
    ],
)
def test_a_text_that_does_not_render_is_refused_naming_the_line(
    admin: FlaskClient, templates: Path, language: str, name: str, text: str, problem: str
) -> None:
    (templates / language).mkdir(parents=True)
    existing = templates / language / f"{name}.txt"
    existing.write_text("Ancien {{ first_name if first_name is defined else '' }}\n")
    before = existing.read_text(encoding="utf-8")
    answer = save(admin, language, name, text)
    assert answer.status_code == 422  # type: ignore[attr-defined]
    assert element(answer, "form-problem") == problem  # type: ignore[arg-type]
    assert existing.read_text(encoding="utf-8") == before
    assert list(templates.rglob("*.txt")) == [existing]


def test_reset_goes_back_to_the_default_text(
    space: Space, admin: FlaskClient, templates: Path
) -> None:
    save(admin, "fr", "sms_cancelled", "Annulé, {{ first_name }}.")
    page = admin.get(page_of("fr", "sms_cancelled"))
    assert element(page, "text") == "Annulé, {{ first_name }}."
    answer = submit(admin, page, f"{page_of('fr', 'sms_cancelled')}/reset", {})
    assert location(answer) == page_of("fr", "sms_cancelled")
    assert not (templates / "fr" / "sms_cancelled.txt").exists()
    assert last_audit(space) == ("admin", "template.reset", "templates/fr/sms_cancelled")
    shown = admin.get(page_of("fr", "sms_cancelled"))
    assert element(shown, "template-state") == "Texte par défaut (le cabinet ne l’a pas modifié)."
    assert element(shown, "preview-sms").startswith("Bonjour Zoë, votre rendez-vous du")
    assert 'id="reset"' not in shown.get_data(as_text=True)


def test_a_text_edited_by_hand_is_used_without_a_restart(
    templates: Path, practice: Practice, smtp: SmtpServer
) -> None:
    override = templates / "fr" / "booked_patient.txt"

    def subject_of_next_booking(start: str) -> str:
        practice.book(start)
        practice.run()
        return smtp.to("zoe@example.org")[-1].subject

    assert subject_of_next_booking("2026-12-02 14:00").startswith("Rendez-vous confirmé")
    override.parent.mkdir(parents=True)
    override.write_text("Version A {{ when.time }}\n\nTexte A\n", encoding="utf-8")
    assert subject_of_next_booking("2026-12-02 15:15") == "Version A 15:15"
    # The same size and the same modification time: the new text is still seen.
    stamp = override.stat()
    override.write_text("Version B {{ when.time }}\n\nTexte B\n", encoding="utf-8")
    os.utime(override, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert subject_of_next_booking("2026-12-02 16:30") == "Version B 16:30"
    override.unlink()
    assert subject_of_next_booking("2026-12-02 17:45").startswith("Rendez-vous confirmé")


def test_a_file_changed_since_the_form_was_opened_is_not_overwritten(
    admin: FlaskClient, templates: Path
) -> None:
    url = page_of("fr", "sms_reminder")
    page = admin.get(url)
    (templates / "fr").mkdir(parents=True)
    by_hand = "Rappel à la main pour {{ first_name }}\n"
    (templates / "fr" / "sms_reminder.txt").write_text(by_hand, encoding="utf-8")
    mine = "Rappel du panneau pour {{ first_name }}"
    answer = submit(admin, page, url, {"text": mine, "do": "save"})
    assert answer.status_code == 409
    assert element(answer, "form-problem").startswith(
        "Le fichier a été modifié depuis l’ouverture de ce formulaire"
    )
    assert (templates / "fr" / "sms_reminder.txt").read_text(encoding="utf-8") == by_hand
    assert element(answer, "text") == mine  # the admin's text is kept
    assert "Rappel à la main pour {{ first_name }}" in element(answer, "text-in-file")
    again = submit(admin, answer, url, {"text": mine, "do": "save"})
    assert location(again) == url
    assert (templates / "fr" / "sms_reminder.txt").read_text(encoding="utf-8") == mine + "\n"


def test_a_stale_reset_is_refused(admin: FlaskClient, templates: Path) -> None:
    save(admin, "fr", "sms_changed", "Déplacé, {{ first_name }}.")
    page = admin.get(page_of("fr", "sms_changed"))
    (templates / "fr" / "sms_changed.txt").write_text("Changé à la main\n", encoding="utf-8")
    answer = submit(admin, page, f"{page_of('fr', 'sms_changed')}/reset", {})
    assert answer.status_code == 409
    assert (templates / "fr" / "sms_changed.txt").read_text(encoding="utf-8") == (
        "Changé à la main\n"
    )


def test_a_read_only_configuration_previews_but_saves_nothing(
    space: Space, practice_toml: Path, templates: Path
) -> None:
    configure(practice_toml, config_read_only="true")
    space.web.runtime.config_source.interval = 0.0
    admin = logged_in_admin(space)
    url = page_of("fr", "sms_reminder")
    page = admin.get(url)
    assert element(page, "read-only").startswith("La configuration est en lecture seule")
    assert 'id="save"' not in page.get_data(as_text=True)
    preview = submit(admin, page, url, {"text": "Bonjour {{ first_name }}", "do": "preview"})
    assert element(preview, "preview-sms") == "Bonjour Zoë"
    answer = submit(admin, page, url, {"text": "Bonjour {{ first_name }}", "do": "save"})
    assert answer.status_code == 403
    assert not templates.exists()


@pytest.mark.parametrize(
    "path", ["xx/booked_patient", "fr/details", "fr/email", "fr/..%2F..%2Fpractice"]
)
def test_an_unknown_message_or_language_is_not_found(admin: FlaskClient, path: str) -> None:
    assert admin.get(f"{LIST}/{path}").status_code == 404

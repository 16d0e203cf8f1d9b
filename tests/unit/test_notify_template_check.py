"""Edited message templates: the preview with sample data, the refusals that name the line, the
override files (versions, conflicts) and templates that follow their files without a restart.

The demo configuration, templates in a temporary folder; no network, no database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from caldav_bridge.config import Config
from caldav_bridge.config_loader import load_config
from caldav_bridge.config_writer import ConfigReadOnlyError
from caldav_bridge.notify.sms_size import SmsSize, sms_size
from caldav_bridge.notify.template_check import TemplateProblem, normalized, preview
from caldav_bridge.notify.template_files import (
    NO_OVERRIDE,
    TemplateConflictError,
    read_template,
    remove_override,
    save_override,
)
from caldav_bridge.notify.templates import Templates

DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
SMS_CONTEXT = {
    "first_name": "Zoë",
    "date": "mer. 2 déc.",
    "time": "15:15",
    "practice": "Cabinet du Lac",
    "practice_phone": "",
    "manage_url": "https://example.org/m",
    "booking_url": "https://example.org/",
}


@pytest.fixture
def config() -> Config:
    return load_config(DEMO)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("Hello", SmsSize(5, 1)),
        ("a" * 160, SmsSize(160, 1)),
        ("a" * 161, SmsSize(161, 2)),
        ("a" * 306, SmsSize(306, 2)),
        ("a" * 307, SmsSize(307, 3)),
        ("Prix: 10€", SmsSize(10, 1)),  # € is in the extension table: two units
        ("Müller à Genève, ça coûte", SmsSize(25, 1, "çû")),
        ("Zoë" + "a" * 67, SmsSize(70, 1, "ë")),
        ("Zoë" + "a" * 68, SmsSize(71, 2, "ë")),
        ("🙂", SmsSize(2, 1, "🙂")),  # outside the BMP: two UTF-16 units
    ],
)
def test_an_sms_is_counted_as_the_network_counts_it(text: str, size: SmsSize) -> None:
    assert sms_size(text) == size


def test_a_draft_is_previewed_in_its_language_with_sample_data(
    config: Config, tmp_path: Path
) -> None:
    draft = "Termin: {{ when.date }}\n\nGuten Tag {{ patient.first_name }},\n{{ booking_url }}\n"
    shown = preview(config, tmp_path, "de", "booked_patient", draft)
    assert shown.subject == "Termin: Montag, 4. März 2030"
    assert shown.text == "Guten Tag Zoë,\nhttp://127.0.0.1:8080/\n"
    assert shown.html is not None
    assert '<a href="http://127.0.0.1:8080/"' in shown.html
    assert shown.size is None
    assert {"patient", "when", "service", "manage_url"} <= set(shown.names)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_an_sms_draft_is_previewed_with_its_size_and_only_its_values(
    config: Config, tmp_path: Path
) -> None:
    shown = preview(config, tmp_path, "fr", "sms_reminder", "Rappel {{ first_name }} {{ time }}")
    assert (shown.subject, shown.text, shown.html) == (None, "Rappel Zoë 14:15", None)
    assert shown.size == SmsSize(16, 1, "ë")
    assert "service" not in shown.names
    assert "first_name" in shown.names


@pytest.mark.parametrize(
    ("name", "draft", "kind", "line", "detail"),
    [
        ("booked_patient", "Objet\n\n{% if x %}\n{{ y }\n", "syntax", 4, "unexpected '}'"),
        (
            "booked_patient",
            "Objet\n\n{% if by_role == 'therapist' %}\n{{ pattient.name }}\n{% endif %}\n",
            "unknown_name",
            4,
            "pattient",
        ),
        ("sms_booked", "Bonjour {{ first_name }}\n{{ place }}", "sms_private", 2, "place"),
        ("sms_reminder", "{% if therapist %}x{% endif %}", "sms_private", 1, "therapist"),
        ("sms_reminder", "Bonjour {{ prenom }}", "unknown_name", 1, "prenom"),
        (
            "cancelled_patient",
            "Objet\n\n\n{{ when.date + 1 }}\n",
            "render",
            4,
            'can only concatenate str (not "int") to str',
        ),
        (
            "booked_patient",
            "Objet\n\n{% include 'fr/booked_patient.txt' %}\n",
            "render",
            3,
            "maximum recursion depth exceeded",
        ),
        ("booked_patient", "Objet\n\n{{ practice.__class__ }}\n", "render", 3, ""),
        ("booked_patient", "Objet\x07\n", "characters", 1, ""),
        ("booked_patient", " \n\n", "empty", None, ""),
    ],
)
def test_a_draft_that_cannot_be_used_is_refused_naming_the_line(
    config: Config,
    tmp_path: Path,
    name: str,
    draft: str,
    kind: str,
    line: int | None,
    detail: str,
) -> None:
    with pytest.raises(TemplateProblem) as refused:
        preview(config, tmp_path, "fr", name, draft)
    assert (refused.value.kind, refused.value.line) == (kind, line)
    assert detail in refused.value.detail
    assert refused.value.file == ""


def test_a_failure_in_an_included_override_names_that_file(config: Config, tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "footer.txt").write_text("{{ practice.name }}\n{{ nope }}\n")
    with pytest.raises(TemplateProblem) as refused:
        preview(config, tmp_path, "fr", "booked_patient", "Objet\n\n{% include 'fr/footer.txt' %}")
    problem = refused.value
    assert (problem.kind, problem.file, problem.line, problem.detail) == (
        "render",
        "fr/footer.txt",
        2,
        "'nope' is undefined",
    )


def test_text_from_a_browser_is_normalized() -> None:
    assert normalized("Objet\r\n\r\nTexte\r\n\r\n") == "Objet\n\nTexte\n"
    assert normalized("SMS") == "SMS\n"


def test_templates_follow_their_files_without_a_restart(tmp_path: Path) -> None:
    templates = Templates(tmp_path)
    assert templates.sms("fr", "sms_reminder", SMS_CONTEXT).startswith("Bonjour Zoë, rappel")
    override = tmp_path / "fr" / "sms_reminder.txt"
    override.parent.mkdir()
    override.write_text("Un {{ first_name }}", encoding="utf-8")  # a new override
    assert templates.sms("fr", "sms_reminder", SMS_CONTEXT) == "Un Zoë"
    stamp = override.stat()
    override.write_text("Deux {{ first_name }}", encoding="utf-8")
    os.utime(override, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # same modification time
    assert templates.sms("fr", "sms_reminder", SMS_CONTEXT) == "Deux Zoë"
    override.unlink()
    assert templates.sms("fr", "sms_reminder", SMS_CONTEXT).startswith("Bonjour Zoë, rappel")


def test_one_layout_override_serves_every_language(tmp_path: Path) -> None:
    templates = Templates(tmp_path)
    assert "<!DOCTYPE html>" in templates.html("it", "Oggetto", "Testo\n")
    (tmp_path / "email.html").write_text("<p>{{ subject }}</p>", encoding="utf-8")
    assert templates.html("it", "Oggetto", "Testo\n") == "<p>Oggetto</p>"
    (tmp_path / "it").mkdir()
    (tmp_path / "it" / "email.html").write_text("<i>{{ subject }}</i>", encoding="utf-8")
    assert templates.html("it", "Oggetto", "Testo\n") == "<i>Oggetto</i>"
    assert templates.html("de", "Betreff", "Text\n") == "<p>Betreff</p>"


def test_a_draft_is_rendered_instead_of_its_file(tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "sms_reminder.txt").write_text("Fichier", encoding="utf-8")
    drafted = Templates(tmp_path, drafts={"fr/sms_reminder.txt": "Brouillon {{ first_name }}"})
    assert drafted.sms("fr", "sms_reminder", SMS_CONTEXT) == "Brouillon Zoë"
    assert Templates(tmp_path).sms("fr", "sms_reminder", SMS_CONTEXT) == "Fichier"


def test_an_override_is_saved_and_removed_only_from_the_version_it_was_based_on(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "templates"
    assert not remove_override(folder, "it", "sms_changed", NO_OVERRIDE, read_only=False)
    with pytest.raises(TemplateConflictError):
        remove_override(folder, "it", "sms_changed", "", read_only=False)
    shown = read_template(folder, "it", "sms_changed")
    assert (shown.overridden, shown.version) == (False, NO_OVERRIDE)
    assert shown.text == shown.default
    path = save_override(folder, "it", "sms_changed", "Uno\n", NO_OVERRIDE, read_only=False)
    assert path == folder / "it" / "sms_changed.txt"
    saved = read_template(folder, "it", "sms_changed")
    assert (saved.overridden, saved.text) == (True, "Uno\n")
    with pytest.raises(TemplateConflictError):
        save_override(folder, "it", "sms_changed", "Due\n", NO_OVERRIDE, read_only=False)
    with pytest.raises(ConfigReadOnlyError):
        save_override(folder, "it", "sms_changed", "Due\n", saved.version, read_only=True)
    with pytest.raises(TemplateConflictError):
        remove_override(folder, "it", "sms_changed", NO_OVERRIDE, read_only=False)
    assert path.read_text(encoding="utf-8") == "Uno\n"
    assert remove_override(folder, "it", "sms_changed", saved.version, read_only=False)
    assert not path.exists()
    assert [p.name for p in folder.parent.iterdir() if p.name.startswith(".")] == [
        ".templates.lock"
    ]


@pytest.mark.parametrize(("language", "name"), [("xx", "sms_changed"), ("fr", "details")])
def test_only_message_templates_of_known_languages_are_files(
    tmp_path: Path, language: str, name: str
) -> None:
    with pytest.raises(ValueError, match="not a message template"):
        read_template(tmp_path, language, name)

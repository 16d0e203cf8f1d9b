"""The form of one service ("prestation"): its names, duration, kind of slots, the slot
settings it overrides, the therapists who offer it, and whether it is offered at all.

Parsing and checking happen here, with a message per field in the admin's language. The file
holds a service as ``[services.<id>]``; a slot setting left empty in the form is absent from
the file (the practice's setting in ``[booking]`` applies). An edit writes only the keys that
changed; a new service is added below the others.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import InlineTable, Table
from werkzeug.datastructures import MultiDict

from booking_web.i18n import _
from caldav_bridge.config_writer import remove_key, set_value

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # as the configuration accepts ids
MAX_NAME = 100
AVAILABILITY = ("fixed", "flexible")
DURATION = (5, 600)
# Slot settings a service may override: file key -> (lowest, highest) or the choices.
NUMBERS = {"flexible_step_minutes": (5, 240), "buffer_minutes": (0, 240)}
CHOICES = {
    "fixed_last_slot": ("may_overrun", "must_fit"),
    "fixed_anchor": ("period", "after_busy"),
}
KEYS = ("name", "duration_minutes", "availability", "therapists", *NUMBERS, *CHOICES, "active")


@dataclass
class ServiceForm:
    values: dict[str, Any]  # file key -> value; None: absent (the practice's setting)
    texts: dict[str, str] = field(default_factory=dict)  # what was typed, to show it again
    errors: dict[str, str] = field(default_factory=dict)


def from_file(section: dict[str, Any], languages: Sequence[str]) -> ServiceForm:
    names = section.get("name", {})
    values: dict[str, Any] = {
        "name": {lang: str(names.get(lang, "")) for lang in languages},
        "duration_minutes": section.get("duration_minutes"),
        "availability": section.get("availability", ""),
        "therapists": list(section.get("therapists", [])),
        **{key: section.get(key) for key in (*NUMBERS, *CHOICES)},
        "active": section.get("active", True),
    }
    texts = {f"name-{lang}": text for lang, text in values["name"].items()}
    for key in ("duration_minutes", "availability", *NUMBERS, *CHOICES):
        texts[key] = "" if values[key] is None else str(values[key])
    return ServiceForm(values, texts)


def parse(
    form: MultiDict[str, str], languages: Sequence[str], therapists: Sequence[str]
) -> ServiceForm:
    """The submitted service, checked against the practice's ``languages`` and
    ``therapists``; ``errors`` names each wrong field."""
    texts = {name: value.strip() for name, value in form.items()}
    result = ServiceForm({"name": {}}, texts)
    for lang in languages:
        result.values["name"][lang] = _name(result, f"name-{lang}")
    duration = _number(texts.get("duration_minutes", ""), *DURATION)
    if duration is None:
        result.errors["duration_minutes"] = _(
            "Please enter a duration in minutes, from %(low)d to %(high)d."
        ) % {"low": DURATION[0], "high": DURATION[1]}
    result.values["duration_minutes"] = duration
    result.values["availability"] = texts.get("availability", "")
    if result.values["availability"] not in AVAILABILITY:
        result.errors["availability"] = _("Please choose fixed or flexible slots.")
    _slot_settings(result)
    _offered_by(result, form.getlist("therapists"), therapists, form.get("active") == "1")
    return result


def _name(result: ServiceForm, name: str) -> str:
    text = result.texts.get(name, "")
    if not text:
        result.errors[name] = _("Please enter the service's name in this language.")
    elif len(text) > MAX_NAME or not text.isprintable():
        result.errors[name] = _("Please use at most %(num)d characters on one line.") % {
            "num": MAX_NAME
        }
    return text


def _slot_settings(result: ServiceForm) -> None:
    for key, (low, high) in NUMBERS.items():
        text = result.texts.get(key, "")
        number = _number(text, low, high)
        if text and number is None:
            result.errors[key] = _(
                "Please enter a number of minutes from %(low)d to %(high)d, or leave it empty "
                "for the practice's setting."
            ) % {"low": low, "high": high}
        result.values[key] = number
    for key, choices in CHOICES.items():
        text = result.texts.get(key, "")
        if text and text not in choices:
            result.errors[key] = _("Please choose one of the options offered.")
        result.values[key] = text or None


def _offered_by(
    result: ServiceForm, chosen: list[str], therapists: Sequence[str], active: bool
) -> None:
    result.values["therapists"] = [login for login in therapists if login in chosen]
    result.values["active"] = active
    if any(login not in therapists for login in chosen):
        result.errors["therapists"] = _("Please choose therapists from the list.")
    elif active and not chosen:
        result.errors["therapists"] = _(
            "Please choose at least one therapist who offers this service."
        )


def _number(text: str, low: int, high: int) -> int | None:
    if not re.fullmatch(r"-?\d{1,6}", text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def check_new_id(result: ServiceForm, existing: Sequence[str]) -> str:
    """The id typed for a new service, with a message on ``id`` when it cannot be used."""
    sid = result.texts.get("id", "")
    if not sid:
        result.errors["id"] = _("Please enter an id, e.g. massage-60.")
    elif not SLUG.match(sid):
        result.errors["id"] = _(
            "Please use lowercase letters, digits, - or _ (at most 63), starting with a "
            "letter or a digit."
        )
    elif sid in existing:
        result.errors["id"] = _("A service with this id already exists.")
    return sid


def changes(before: ServiceForm, after: ServiceForm) -> list[str]:
    """The file keys the edit changes (``name`` when any of the names changed)."""

    def same(key: str) -> bool:
        old, new = before.values.get(key), after.values[key]
        return set(old or ()) == set(new) if key == "therapists" else bool(old == new)

    return [key for key in KEYS if not same(key)]


def apply(document: tomlkit.TOMLDocument, sid: str, form: ServiceForm, keys: list[str]) -> None:
    """Write the changed ``keys`` of ``form`` into ``[services.<sid>]``."""
    base = ("services", sid)
    for key in keys:
        value = form.values[key]
        if key == "name":
            _set_names(_service_table(document, sid), value)
        elif key == "active":
            if value:
                remove_key(document, (*base, key))
            else:
                set_value(document, (*base, key), False)
        elif value is None:
            remove_key(document, (*base, key))
        else:
            set_value(document, (*base, key), value)


def new_table(form: ServiceForm) -> Table:
    """``[services.<id>]`` of a new service: its name inline, as the file's others are."""
    table = tomlkit.table()
    names = tomlkit.inline_table()
    names.update(form.values["name"])
    table["name"] = names
    for key in KEYS[1:]:
        value = form.values[key]
        if value is not None and not (key == "active" and value):
            table[key] = value
    return table


def _service_table(document: tomlkit.TOMLDocument, sid: str) -> Table:
    services = document.get("services")
    service = services.get(sid) if isinstance(services, Table) else None
    if not isinstance(service, Table):
        raise KeyError(sid)
    return service


def _set_names(service: Table, names: dict[str, str]) -> None:
    """Set each language's name in the service's ``name`` table, kept inline if it was."""
    found = service.get("name")
    if not isinstance(found, InlineTable | Table):
        found = tomlkit.inline_table()
        service["name"] = found
    for lang, text in names.items():
        if found.get(lang) != text:
            found[lang] = text

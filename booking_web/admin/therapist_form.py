"""The form of a therapist's details: name, email, phone, language, and the display name and
colour of their appointments calendar; the login too, for a new therapist.

Parsing and checking happen here, with a message per field in the admin's language. The phone
is kept in E.164 (+41791234567), as patients' numbers are. An edit writes only the keys of
``[therapists.<login>]`` that changed; hours are the hours page's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from tomlkit.items import Table
from werkzeug.datastructures import MultiDict

from booking_web.i18n import _
from caldav_bridge.accounts import ADMIN
from caldav_bridge.config_writer import remove_key, set_value
from caldav_bridge.patient_details import e164

FIELDS = ("name", "email", "phone", "language", "calendar_name", "color")
OPTIONAL = ("email", "phone")
DEFAULTS = {"calendar_name": "Rendez-vous", "color": "#2A7AB0"}  # as the configuration's
LOGIN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")  # as the configuration accepts logins
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_TEXT = 100
MAX_EMAIL = 254


@dataclass
class TherapistForm:
    values: dict[str, str]  # file key -> value ("" for an absent optional one)
    texts: dict[str, str] = field(default_factory=dict)  # what was typed, to show it again
    errors: dict[str, str] = field(default_factory=dict)


def blank(language: str) -> TherapistForm:
    """The form of a new therapist."""
    values = {"name": "", "email": "", "phone": "", "language": language, **DEFAULTS}
    return TherapistForm(values, dict(values))


def from_file(section: dict[str, Any], default_language: str) -> TherapistForm:
    values = {name: str(section.get(name, "")) for name in FIELDS}
    values["language"] = str(section.get("language", default_language))
    for name, default in DEFAULTS.items():
        values[name] = str(section.get(name, default))
    return TherapistForm(values, dict(values))


def parse(form: MultiDict[str, str], languages: Sequence[str]) -> TherapistForm:
    """The submitted details, checked; ``errors`` names each wrong field."""
    texts = {name: value.strip() for name, value in form.items()}
    result = TherapistForm({name: texts.get(name, "") for name in FIELDS}, texts)
    for name in ("name", "calendar_name"):
        _line(result, name, MAX_TEXT)
    if not result.values["name"] and "name" not in result.errors:
        result.errors["name"] = _("Please enter the therapist's name.")
    if not result.values["calendar_name"] and "calendar_name" not in result.errors:
        result.errors["calendar_name"] = _("Please enter the calendar's name.")
    if _line(result, "email", MAX_EMAIL) and not EMAIL.match(result.values["email"]):
        result.errors["email"] = _("Please enter a valid email address, e.g. name@example.ch.")
    if result.values["phone"]:
        number = e164(result.values["phone"])
        if number is None:
            result.errors["phone"] = _("Please enter a valid phone number, e.g. +41 21 555 01 00.")
        result.values["phone"] = number or ""
    if result.values["language"] not in languages:
        result.errors["language"] = _("Please choose one of the languages offered.")
    if not COLOR.match(result.values["color"]):
        result.errors["color"] = _("Please choose a colour such as #2A7AB0.")
    result.values["color"] = result.values["color"].upper()
    return result


def _line(result: TherapistForm, name: str, limit: int) -> bool:
    """True if the field is filled in with one line of at most ``limit`` characters."""
    text = result.values[name]
    if len(text) > limit or not text.isprintable():
        result.errors[name] = _("Please use at most %(num)d characters on one line.") % {
            "num": limit
        }
        return False
    return bool(text)


def check_new_login(result: TherapistForm, taken: Callable[[str], bool]) -> str:
    """The login typed for a new therapist, with a message on ``login`` when it cannot be
    used (``taken`` tells whether the file or the store already has it)."""
    login = result.texts.get("login", "")
    if not login:
        result.errors["login"] = _("Please enter a login, e.g. claire.")
    elif not LOGIN.match(login):
        result.errors["login"] = _(
            "Please use lowercase letters, digits, - or _ (at most 63), starting with a "
            "letter or a digit."
        )
    elif login == ADMIN:
        result.errors["login"] = _("This login is the practice admin's.")
    elif taken(login):
        result.errors["login"] = _("This login is already taken.")
    return login


def changes(before: TherapistForm, after: TherapistForm) -> list[str]:
    """The file keys the edit changes (a phone or a colour written differently is the same)."""
    return [name for name in FIELDS if _same(before.values[name], name) != after.values[name]]


def _same(value: str, name: str) -> str:
    """``value`` from the file, written as the form writes it."""
    if name == "phone" and value:
        return e164(value) or value
    return value.upper() if name == "color" else value


def apply(document: tomlkit.TOMLDocument, login: str, form: TherapistForm, keys: list[str]) -> None:
    """Write the changed ``keys`` of ``form`` into ``[therapists.<login>]``."""
    for name in keys:
        value = form.values[name]
        if name in OPTIONAL and not value:
            remove_key(document, ("therapists", login, name))
        else:
            set_value(document, ("therapists", login, name), value)


def new_table(form: TherapistForm) -> Table:
    """``[therapists.<login>]`` of a new therapist (no hours yet: the hours page sets them)."""
    table = tomlkit.table()
    for name in FIELDS:
        if form.values[name] or name not in OPTIONAL:
            table[name] = form.values[name]
    return table

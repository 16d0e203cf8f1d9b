"""The practice's settings (`[practice]` of ``practice.toml``): name, contact, time zone,
languages and the privacy level of synced calendars.

The form shows the file as it is now (a hand edit appears at once) and carries its version;
only the keys whose value changed are written, so the file's comments and layout stay.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import tomlkit
from flask import flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits
from booking_web.admin.blueprint import bp
from booking_web.i18n import NAMES, _
from caldav_bridge.config import LANGUAGES
from caldav_bridge.config_writer import set_value

TEXT_FIELDS = ("name", "address", "phone", "email", "timezone")
MAX_TEXT = 200
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{3,29}$")
PRIVACY = ("initials", "full_name")
DEFAULTS: dict[str, Any] = {
    "name": "",
    "address": "",
    "phone": "",
    "email": "",
    "timezone": "Europe/Zurich",
    "languages": ["fr", "de", "it", "en"],
    "privacy": "initials",
}


@dataclass
class PracticeForm:
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def values_in_file(section: dict[str, Any]) -> dict[str, Any]:
    return {key: section.get(key, default) for key, default in DEFAULTS.items()}


def parse(form: MultiDict[str, str]) -> PracticeForm:
    """The submitted values, checked; ``errors`` names each wrong field."""
    values: dict[str, Any] = {name: form.get(name, "").strip() for name in TEXT_FIELDS}
    checked = [code for code in LANGUAGES if code in form.getlist("languages")]
    default = form.get("default_language", "")
    values["languages"] = [default, *(c for c in checked if c != default)]
    values["privacy"] = form.get("privacy", "")
    errors: dict[str, str] = {}
    for name in TEXT_FIELDS:
        text = values[name]
        if len(text) > MAX_TEXT or not text.isprintable():
            errors[name] = _("Please use at most %(num)d characters on one line.") % {
                "num": MAX_TEXT
            }
    if "name" not in errors and not values["name"]:
        errors["name"] = _("Please enter the practice's name.")
    if "email" not in errors and values["email"] and not EMAIL.match(values["email"]):
        errors["email"] = _("Please enter a valid email address, e.g. name@example.ch.")
    if "phone" not in errors and values["phone"] and not PHONE.match(values["phone"]):
        errors["phone"] = _("Please enter a valid phone number, e.g. +41 21 555 01 00.")
    if "timezone" not in errors and not _known_zone(values["timezone"]):
        errors["timezone"] = _("Please enter a known time zone, e.g. Europe/Zurich.")
    if default not in LANGUAGES or default not in checked:
        errors["languages"] = _(
            "Please choose at least one language, the default language among them."
        )
    if values["privacy"] not in PRIVACY:
        errors["privacy"] = _("Please choose what synced calendars show of a patient.")
    return PracticeForm(values, errors)


def _known_zone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def changed_keys(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [key for key in DEFAULTS if before.get(key) != after[key]]


@bp.get("/practice")
def practice() -> str:
    shot = config_edits.current()
    current = values_in_file(config_edits.file_values(shot).get("practice", {}))
    return _page(PracticeForm(current), shot.version, problem="", theirs={})


@bp.post("/practice")
def practice_post() -> BaseResponse | tuple[str, int]:
    form = parse(request.form)
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if form.errors:
        return _page(form, version, problem="", theirs={}), 422
    shot = config_edits.current()
    in_file = values_in_file(config_edits.file_values(shot).get("practice", {}))
    keys = changed_keys(in_file, form.values)

    def edit(document: tomlkit.TOMLDocument) -> None:
        for key in keys:
            set_value(document, ("practice", key), form.values[key])

    result = config_edits.save(version, edit, "settings.practice", "practice", keys)
    if result.ok:
        flash(_("The practice's settings are saved."), "success")
        return redirect(url_for("admin.practice"), 303)
    if result.outcome is config_edits.Saved.CONFLICT:
        theirs = {k: v for k, v in in_file.items() if v != form.values[k]}
        return _page(form, shot.version, problem=result.problem, theirs=theirs), 409
    status = 403 if result.outcome is config_edits.Saved.READ_ONLY else 422
    return _page(form, version, problem=result.problem, theirs={}), status


def _page(form: PracticeForm, version: str, *, problem: str, theirs: dict[str, Any]) -> str:
    return render_template(
        "admin/practice.html",
        values=form.values,
        errors=form.errors,
        version=version,
        problem=problem,
        theirs=theirs,
        read_only=config_edits.read_only(),
        all_languages=[(code, NAMES[code]) for code in LANGUAGES],
    )

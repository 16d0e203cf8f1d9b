"""The notification settings' forms: reminders and channels ([notifications]), the mail server
([smtp]) and Twilio ([twilio]) of ``practice.toml``, read from the file and checked.

Each form's values are keyed by the file's keys; the page names its fields
``<section>_<key>`` (``smtp_host``), and errors are keyed by those names. Secrets never go in
the file: the forms take the names of the environment variables that hold them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

import tomlkit
from werkzeug.datastructures import MultiDict

from booking_web.i18n import _
from caldav_bridge.config_writer import remove_key, set_value
from caldav_bridge.patient_details import e164

LEADS = (24, 48, 72)
CHANNELS = ("sms_reminders", "email_reminders", "sms_notices")
SETTINGS_DEFAULTS: dict[str, Any] = {
    "reminder_lead_hours": 24,
    "sms_reminders": True,
    "email_reminders": False,
    "sms_notices": False,
}
SMTP_KEYS = ("host", "port", "security", "username", "password_env", "from")
SMTP_OPTIONAL = ("username", "password_env")
SECURITY = ("starttls", "tls", "none")
TWILIO_KEYS = ("account_sid", "auth_token_env", "from_number", "messaging_service_sid")
TWILIO_OPTIONAL = ("from_number", "messaging_service_sid")
MAX_TEXT = 200
ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,99}$")
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252})$")
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACCOUNT_SID = re.compile(r"^AC[0-9a-fA-F]{32}$")
SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")


@dataclass
class Form:
    section: str  # "notifications", "smtp" or "twilio"
    values: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(f"{self.section}_{key}", message)


def settings_in_file(section: dict[str, Any]) -> dict[str, Any]:
    return {key: section.get(key, default) for key, default in SETTINGS_DEFAULTS.items()}


def smtp_in_file(section: dict[str, Any] | None) -> dict[str, Any]:
    found = section or {}
    values = {key: str(found.get(key, "")) for key in SMTP_KEYS}
    values["port"] = str(found.get("port", 587 if section is not None else ""))
    values["security"] = str(found.get("security", "starttls"))
    return values


def twilio_in_file(section: dict[str, Any] | None) -> dict[str, Any]:
    found = section or {}
    values = {key: str(found.get(key, "")) for key in TWILIO_KEYS}
    values["auth_token_env"] = str(found.get("auth_token_env", "TWILIO_AUTH_TOKEN"))
    return values


def parse_settings(form: MultiDict[str, str]) -> Form:
    lead = form.get("notifications_reminder_lead_hours", "")
    hours = int(lead) if lead in {str(h) for h in LEADS} else lead
    parsed = Form("notifications", {"reminder_lead_hours": hours})
    for key in CHANNELS:
        parsed.values[key] = form.get(f"notifications_{key}") == "on"
    if hours not in LEADS:
        parsed.fail("reminder_lead_hours", _("Please choose 24, 48 or 72 hours."))
    return parsed


def parse_smtp(form: MultiDict[str, str]) -> Form:
    parsed = Form("smtp", {key: form.get(f"smtp_{key}", "").strip() for key in SMTP_KEYS})
    _one_line(parsed, SMTP_KEYS)
    values = parsed.values
    if not HOST.match(values["host"]):
        parsed.fail("host", _("Please enter the mail server's name, e.g. mail.example.ch."))
    port = values["port"]
    if port.isdigit() and 1 <= int(port) <= 65535:
        values["port"] = int(port)
    else:
        parsed.fail("port", _("Please enter a port number from 1 to 65535, e.g. 587."))
    if values["security"] not in SECURITY:
        parsed.fail("security", _("Please choose how the connection is secured."))
    _env_name(parsed, "password_env", "SMTP_PASSWORD", required=bool(values["username"]))
    if not _sender_valid(values["from"]):
        parsed.fail(
            "from",
            _("Please enter the sender's address, e.g. Cabinet du Lac <rendez-vous@example.ch>."),
        )
    return parsed


def parse_twilio(form: MultiDict[str, str]) -> Form:
    parsed = Form("twilio", {key: form.get(f"twilio_{key}", "").strip() for key in TWILIO_KEYS})
    _one_line(parsed, TWILIO_KEYS)
    values = parsed.values
    if not ACCOUNT_SID.match(values["account_sid"]):
        parsed.fail(
            "account_sid",
            _("Please enter the account SID from the Twilio console: AC and 32 characters."),
        )
    _env_name(parsed, "auth_token_env", "TWILIO_AUTH_TOKEN", required=True)
    number, service = values["from_number"], values["messaging_service_sid"]
    if number:
        values["from_number"] = e164(number) or number
        if e164(number) is None:
            parsed.fail(
                "from_number",
                _("Please enter the number in international format, e.g. +41 79 000 00 00."),
            )
    if service and not SERVICE_SID.match(service):
        parsed.fail(
            "messaging_service_sid",
            _("Please enter the messaging service SID: MG and 32 characters."),
        )
    if not number and not service:
        parsed.fail("from_number", _("Please enter a sending number or a messaging service SID."))
    return parsed


def _one_line(parsed: Form, keys: Sequence[str]) -> None:
    for key in keys:
        text = parsed.values[key]
        if len(text) > MAX_TEXT or not text.isprintable():
            parsed.fail(
                key, _("Please use at most %(num)d characters on one line.") % {"num": MAX_TEXT}
            )


def _env_name(parsed: Form, key: str, example: str, *, required: bool) -> None:
    name = parsed.values[key]
    if not name and not required:
        return
    if not name:
        parsed.fail(key, _("Please name the environment variable that holds the secret."))
    elif not ENV_NAME.match(name):
        parsed.fail(
            key,
            _(
                "Please enter the name of an environment variable (capital letters, digits "
                "and _), e.g. %(example)s: the secret itself never goes in the file."
            )
            % {"example": example},
        )


def _sender_valid(text: str) -> bool:
    name, address = parseaddr(text)
    return bool(address) and EMAIL_ADDRESS.match(address) is not None and "<" not in name


def changed_keys(in_file: dict[str, Any] | None, after: dict[str, Any]) -> list[str]:
    """The keys whose value differs from the file's section (an empty value is a missing key)."""
    found = in_file or {}
    return [key for key in after if found.get(key, "") != after[key]]


def differences(
    section: str, in_file: dict[str, Any] | None, after: dict[str, Any]
) -> dict[str, Any]:
    """The file's values that differ from the submitted ones, by field name (a conflict)."""
    found = in_file or {}
    return {
        f"{section}_{key}": _shown(found.get(key, ""))
        for key in after
        if found.get(key, "") != after[key]
    }


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def table_edit(
    section: str, keys: Sequence[str], values: dict[str, Any], optional: Sequence[str] = ()
) -> Callable[[tomlkit.TOMLDocument], None]:
    """Write ``keys`` of ``section``; an optional key left empty is removed from the file."""

    def edit(document: tomlkit.TOMLDocument) -> None:
        for key in keys:
            if key in optional and values[key] == "":
                remove_key(document, (section, key))
            else:
                set_value(document, (section, key), values[key])

    return edit

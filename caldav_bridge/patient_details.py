"""Validation of what a patient (or a therapist for them) types into a form.

Pure: returns normalised details or a mapping of field -> error code; the web layer turns
codes into messages in the user's language. Nothing typed can inject iCalendar properties or
mail headers: line breaks and other control characters are refused, not silently removed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import phonenumbers

from caldav_bridge.store.patients import PatientDetails

NAME_MAX = 100
EMAIL_MAX = 254
MESSAGE_MAX = 1000
DEFAULT_REGION = "CH"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")

# Error codes (the web layer's catalogues translate them).
REQUIRED = "required"
TOO_LONG = "too_long"
INVALID_CHARACTERS = "invalid_characters"
INVALID_EMAIL = "invalid_email"
INVALID_PHONE = "invalid_phone"
UNSUPPORTED_LANGUAGE = "unsupported_language"
CONSENT_REQUIRED = "consent_required"


@dataclass(frozen=True)
class CheckedDetails:
    details: PatientDetails | None
    message: str
    errors: Mapping[str, str]


def check_details(
    form: Mapping[str, str],
    languages: Sequence[str],
    *,
    require_email: bool = True,
    require_phone: bool = True,
) -> CheckedDetails:
    """Validate ``first_name``, ``last_name``, ``email``, ``phone``, ``language``, ``message``."""
    errors: dict[str, str] = {}
    first = _name(form.get("first_name", ""), "first_name", errors)
    last = _name(form.get("last_name", ""), "last_name", errors)
    email = _email(form.get("email", ""), require_email, errors)
    phone = _phone(form.get("phone", ""), require_phone, errors)
    language = form.get("language", "") or languages[0]
    if language not in languages:
        errors["language"] = UNSUPPORTED_LANGUAGE
    message = _text(form.get("message", ""), "message", MESSAGE_MAX, errors, multiline=True)
    if errors:
        return CheckedDetails(None, "", errors)
    return CheckedDetails(PatientDetails(first, last, email, phone, language), message, {})


def e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """``raw`` as an E.164 number (+41791234567) if it is a valid number, else None."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def initials(first_name: str, last_name: str) -> str:
    """ "Zoë Müller-Ødegård" -> "Z. M." (what synced calendars show under the privacy setting)."""
    parts = [p for p in (first_name.strip(), last_name.strip()) if p]
    return " ".join(f"{p[0].upper()}." for p in parts)


def _text(
    raw: str, field: str, limit: int, errors: dict[str, str], *, multiline: bool = False
) -> str:
    value = unicodedata.normalize("NFC", raw.strip())
    allowed = "\n" if multiline else ""
    if any(
        unicodedata.category(ch) == "Cc" and ch not in allowed for ch in value.replace("\r\n", "\n")
    ):
        errors[field] = INVALID_CHARACTERS
    elif len(value) > limit:
        errors[field] = TOO_LONG
    return value.replace("\r\n", "\n")


def _name(raw: str, field: str, errors: dict[str, str]) -> str:
    value = _text(raw, field, NAME_MAX, errors)
    if not value and field not in errors:
        errors[field] = REQUIRED
    return value


def _email(raw: str, required: bool, errors: dict[str, str]) -> str | None:
    value = _text(raw, "email", EMAIL_MAX, errors)
    if "email" in errors:
        return None
    if not value:
        if required:
            errors["email"] = REQUIRED
        return None
    if not _EMAIL.match(value):
        errors["email"] = INVALID_EMAIL
        return None
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def _phone(raw: str, required: bool, errors: dict[str, str]) -> str | None:
    value = _text(raw, "phone", 40, errors)
    if "phone" in errors:
        return None
    if not value:
        if required:
            errors["phone"] = REQUIRED
        return None
    number = e164(value)
    if number is None:
        errors["phone"] = INVALID_PHONE
    return number

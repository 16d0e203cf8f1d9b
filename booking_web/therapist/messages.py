"""The messages a therapist reads next to a refused field, in the page's language."""

from __future__ import annotations

from collections.abc import Mapping

from booking_web.i18n import N_, _, ngettext
from caldav_bridge.patient_details import (
    EMAIL_MAX,
    INVALID_CHARACTERS,
    INVALID_EMAIL,
    INVALID_PHONE,
    NAME_MAX,
    REQUIRED,
    TOO_LONG,
    UNSUPPORTED_LANGUAGE,
)
from caldav_bridge.patient_records import NOTES_MAX

INVALID = "invalid"
INVALID_DATE = "invalid_date"
INVALID_TIME = "invalid_time"
NO_SUCH_TIME = "no_such_time"
IN_THE_PAST = "in_the_past"
UNKNOWN_SERVICE = "unknown_service"
CHOOSE_TIME = "choose_time"

_REQUIRED = {
    "first_name": N_("Please enter the first name."),
    "last_name": N_("Please enter the last name."),
}
_BY_CODE = {
    REQUIRED: N_("Please fill in this field."),
    INVALID: N_("Please check this field."),
    INVALID_CHARACTERS: N_("Please remove the line breaks and other special characters."),
    INVALID_EMAIL: N_("Please enter a valid email address, for example name@example.ch."),
    INVALID_PHONE: N_(
        "Please enter a valid mobile phone number, for example 079 123 45 67 or +41 79 123 45 67."
    ),
    UNSUPPORTED_LANGUAGE: N_("Please choose one of the languages offered."),
    INVALID_DATE: N_("Please enter a date, for example 2026-12-02."),
    INVALID_TIME: N_("Please enter a time, for example 14:30."),
    NO_SUCH_TIME: N_(
        "This time does not exist on that day: the clocks change. Please choose another."
    ),
    IN_THE_PAST: N_("This time has already passed. Please choose another one."),
    UNKNOWN_SERVICE: N_("Please choose one of your services."),
    CHOOSE_TIME: N_("Please choose a free time or enter a date and a time."),
}
_LIMITS = {"first_name": NAME_MAX, "last_name": NAME_MAX, "email": EMAIL_MAX, "phone": 40}


def field_message(field: str, code: str) -> str:
    """The message shown next to ``field`` for ``code``."""
    if code == REQUIRED and field in _REQUIRED:
        return _(_REQUIRED[field])
    if code == TOO_LONG:
        limit = _LIMITS.get(field, NOTES_MAX)
        return ngettext(
            "Please shorten this to at most %(num)d character.",
            "Please shorten this to at most %(num)d characters.",
            limit,
        ) % {"num": limit}
    return _(_BY_CODE.get(code, _BY_CODE[INVALID]))


def field_messages(errors: Mapping[str, str]) -> dict[str, str]:
    """Every refused field's message, from field -> code."""
    return {name: field_message(name, code) for name, code in errors.items()}

"""The messages a patient reads for each refusal code, in the page's language."""

from __future__ import annotations

from booking_web.i18n import N_, _, ngettext
from booking_web.submission import (
    BEYOND_HORIZON,
    IN_THE_PAST,
    INVALID,
    INVALID_DATETIME,
    NOT_A_SLOT,
    REQUIRED,
    TOO_SOON,
    UNKNOWN_CHOICE,
)
from caldav_bridge.config import Config
from caldav_bridge.patient_details import (
    CONSENT_REQUIRED,
    EMAIL_MAX,
    INVALID_CHARACTERS,
    INVALID_EMAIL,
    INVALID_PHONE,
    MESSAGE_MAX,
    NAME_MAX,
    TOO_LONG,
    UNSUPPORTED_LANGUAGE,
)

_REQUIRED = {
    "first_name": N_("Please enter your first name."),
    "last_name": N_("Please enter your last name."),
    "email": N_("Please enter your email address."),
    "phone": N_("Please enter your mobile phone number."),
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
    CONSENT_REQUIRED: N_("Please accept the privacy notice to book online."),
    UNKNOWN_CHOICE: N_("This choice is no longer offered online. Please choose again."),
}
_LIMITS = {"first_name": NAME_MAX, "last_name": NAME_MAX, "email": EMAIL_MAX, "phone": 40}
_START = {
    IN_THE_PAST: N_("This time has already passed. Please choose another one."),
    BEYOND_HORIZON: N_(
        "This time is too far ahead to be booked online. Please choose an earlier one."
    ),
    NOT_A_SLOT: N_("This time is not offered online. Please choose one of the times shown."),
    "slot_taken": N_(
        "Sorry, this time has just been booked by someone else. Please choose another one."
    ),
    INVALID_DATETIME: N_("Please choose one of the times shown."),
    REQUIRED: N_("Please choose one of the times shown."),
}


def field_message(field: str, code: str) -> str:
    """The message shown next to ``field`` for ``code``."""
    if code == REQUIRED and field in _REQUIRED:
        return _(_REQUIRED[field])
    if code == TOO_LONG:
        limit = MESSAGE_MAX if field == "message" else _LIMITS.get(field, MESSAGE_MAX)
        return ngettext(
            "Please shorten this to at most %(num)d character.",
            "Please shorten this to at most %(num)d characters.",
            limit,
        ) % {"num": limit}
    return _(_BY_CODE.get(code, _BY_CODE[INVALID]))


def start_message(code: str, config: Config) -> str:
    """Why the chosen time cannot be booked (shown above the week view)."""
    if code == TOO_SOON:
        minutes = int(config.booking.minimum_notice.total_seconds() // 60)
        if minutes % 60 == 0:
            notice = ngettext("%(num)d hour", "%(num)d hours", minutes // 60) % {
                "num": minutes // 60
            }
        else:
            notice = ngettext("%(num)d minute", "%(num)d minutes", minutes) % {"num": minutes}
        return _(
            "This time is too soon to be booked online: please book at least %(notice)s ahead."
        ) % {"notice": notice}
    return _(_START.get(code, _START["slot_taken"]))

"""What patients type: validated, normalised, never able to inject calendar or mail syntax."""

from __future__ import annotations

import pytest

from caldav_bridge.patient_details import check_details, e164, initials

LANGUAGES = ("fr", "de", "it", "en")


def form(**changes: str) -> dict[str, str]:
    base = {
        "first_name": "Zoë",
        "last_name": "Müller-Ødegård",
        "email": "Zoe.Muller@Example.ORG",
        "phone": "079 123 45 67",
        "language": "de",
        "message": "",
    }
    base.update(changes)
    return base


def test_good_details_are_normalised() -> None:
    checked = check_details(form(), LANGUAGES)
    assert checked.errors == {}
    assert checked.details is not None
    assert checked.details.first_name == "Zoë"
    assert checked.details.last_name == "Müller-Ødegård"
    assert checked.details.email == "Zoe.Muller@example.org"
    assert checked.details.phone == "+41791234567"
    assert checked.details.language == "de"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("first_name", "", "required"),
        ("last_name", "   ", "required"),
        ("first_name", "Zoë\r\nATTENDEE:mailto:evil@example.org", "invalid_characters"),
        ("last_name", "Müller\nBCC: everyone@example.org", "invalid_characters"),
        ("email", "zoe@example.org\r\nBcc: x@example.org", "invalid_characters"),
        ("first_name", "Z" * 10_000, "too_long"),
        ("email", "not-an-address", "invalid_email"),
        ("email", "", "required"),
        ("phone", "12", "invalid_phone"),
        ("phone", "+41 79 123 45 6", "invalid_phone"),
        ("phone", "", "required"),
        ("language", "es", "unsupported_language"),
        ("message", "x" * 1001, "too_long"),
        ("message", "hello\x00", "invalid_characters"),
    ],
)
def test_bad_details_name_the_field(field: str, value: str, code: str) -> None:
    checked = check_details(form(**{field: value}), LANGUAGES)
    assert checked.details is None
    assert checked.errors == {field: code}


def test_a_message_may_have_several_lines() -> None:
    checked = check_details(form(message="Bonjour,\r\nmerci."), LANGUAGES)
    assert checked.errors == {}
    assert checked.message == "Bonjour,\nmerci."


def test_phone_numbers_default_to_switzerland() -> None:
    assert e164("021 555 01 00") == "+41215550100"
    assert e164("+33 6 12 34 56 78") == "+33612345678"
    assert e164("0041 79 123 45 67") == "+41791234567"
    assert e164("hello") is None


def test_initials_keep_accents() -> None:
    assert initials("Zoë", "Müller-Ødegård") == "Z. M."
    assert initials("élodie", "dupont") == "É. D."

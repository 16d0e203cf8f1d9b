"""What went wrong with a message, from the provider's own words to a code the pages put in
plain words."""

from __future__ import annotations

import pytest

from caldav_bridge.notify import delivery_problems as problems
from caldav_bridge.notify.delivery_problems import ERASED, delivery_problem


@pytest.mark.parametrize(
    ("state", "error", "code"),
    [
        ("sent", None, None),
        ("pending", None, None),
        ("failed", "SMTP 550 5.1.1 Mailbox unavailable", problems.ADDRESS_REFUSED),
        ("failed", "the address needs SMTPUTF8", problems.ADDRESS_REFUSED),
        ("pending", "SMTP 451 4.3.0 Try again later", problems.MAIL_SERVER_TROUBLE),
        ("pending", "SMTP 535 5.7.8 Authentication failed", problems.MAIL_SERVER_TROUBLE),
        ("pending", "SMTP server unreachable: [Errno 111]", problems.MAIL_SERVER_TROUBLE),
        ("failed", "Twilio 400 21211: Invalid 'To' Phone Number", problems.NUMBER_REFUSED),
        ("failed", "Twilio 400 21614: not a mobile number", problems.NUMBER_REFUSED),
        ("failed", "Twilio 400 21610: unsubscribed recipient", problems.SMS_BLOCKED),
        ("pending", "Twilio 503 None: Service Unavailable", problems.SMS_PROVIDER_TROUBLE),
        ("pending", "Twilio 401 20003: Authenticate", problems.SMS_PROVIDER_TROUBLE),
        ("pending", "Twilio unreachable: connection refused", problems.SMS_PROVIDER_TROUBLE),
        ("failed", "gave up after 12 attempts: SMTP 451 busy", problems.GAVE_UP),
        (
            "uncertain",
            "interrupted while sending; the provider cannot tell",
            problems.MAY_HAVE_ARRIVED,
        ),
        ("void", "appointment cancelled", problems.APPOINTMENT_CANCELLED),
        ("void", "appointment moved", problems.APPOINTMENT_MOVED),
        ("void", "appointment already started", problems.APPOINTMENT_STARTED),
        ("void", "SMS turned off for this patient or appointment", problems.SMS_OFF),
        ("void", ERASED, problems.PATIENT_ERASED),
        ("failed", "something new", problems.UNKNOWN),
    ],
)
def test_each_error_gets_its_code(state: str, error: str | None, code: str | None) -> None:
    assert delivery_problem(state, error) == code

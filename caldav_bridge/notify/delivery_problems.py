"""What went wrong with a message, as a short code the pages put in plain words. Pure.

The outbox keeps the provider's own words in ``last_error`` ("SMTP 550 5.1.1 ...", "Twilio 400
21211: ..."), written by `caldav_bridge.notify.outbox` and `senders`, or the reason a message
was not sent (`reminders.void_reason`, `ERASED`). A therapist needs to know what it means
for the patient: the address is wrong, the provider is down for now, it may have arrived.
"""

from __future__ import annotations

import re

from caldav_bridge.notify.senders import SMTP_LOGIN_CODES
from caldav_bridge.store.outbox import FAILED, SENT, UNCERTAIN, VOID

ERASED = "the patient's data was erased"

ADDRESS_REFUSED = "address_refused"
NUMBER_REFUSED = "number_refused"
SMS_BLOCKED = "sms_blocked"
MAIL_SERVER_TROUBLE = "mail_server_trouble"
SMS_PROVIDER_TROUBLE = "sms_provider_trouble"
MAY_HAVE_ARRIVED = "may_have_arrived"
GAVE_UP = "gave_up"
APPOINTMENT_CANCELLED = "appointment_cancelled"
APPOINTMENT_MOVED = "appointment_moved"
APPOINTMENT_STARTED = "appointment_started"
SMS_OFF = "sms_off"
PATIENT_ERASED = "patient_erased"
UNKNOWN = "unknown"

_OUR_SIDE = {401, 403, 429}  # our credentials or rate: the provider's trouble, not the number's
_SMS_BLOCKED_CODES = {21610}  # the recipient replied STOP
_NUMBER_CODES = {21211, 21214, 21408, 21612, 21614, 21617}
_VOID_REASONS = {
    "appointment cancelled": APPOINTMENT_CANCELLED,
    "appointment moved": APPOINTMENT_MOVED,
    "appointment already started": APPOINTMENT_STARTED,
    "SMS turned off for this patient or appointment": SMS_OFF,
    ERASED: PATIENT_ERASED,
}
_TWILIO = re.compile(r"^Twilio (\d{3}) (\d+)?")
_SMTP = re.compile(r"^SMTP (\d{3})\b")


def delivery_problem(state: str, last_error: str | None) -> str | None:
    """The code of what went wrong (None: nothing to say, e.g. sent or waiting)."""
    if state == SENT or not last_error:
        return None
    if state == VOID:
        return _VOID_REASONS.get(last_error, UNKNOWN)
    if state == UNCERTAIN:
        return MAY_HAVE_ARRIVED
    if last_error.startswith("gave up after"):
        return GAVE_UP
    return _provider_problem(last_error) or (UNKNOWN if state == FAILED else None)


def _provider_problem(error: str) -> str | None:
    twilio = _TWILIO.match(error)
    if twilio:
        code = int(twilio.group(2) or 0)
        if code in _SMS_BLOCKED_CODES:
            return SMS_BLOCKED
        status = int(twilio.group(1))
        if code in _NUMBER_CODES or (400 <= status < 500 and status not in _OUR_SIDE):
            return NUMBER_REFUSED
        return SMS_PROVIDER_TROUBLE
    if error.startswith("Twilio"):
        return SMS_PROVIDER_TROUBLE
    smtp = _SMTP.match(error)
    status = int(smtp.group(1)) if smtp else 0
    if (500 <= status < 600 and status not in SMTP_LOGIN_CODES) or "SMTPUTF8" in error:
        return ADDRESS_REFUSED
    if error.startswith("SMTP"):
        return MAIL_SERVER_TROUBLE
    return None

"""The delivery log of one patient's messages as the therapist space and the admin panel show
it: what kind of message, to which address, in which state, and what went wrong in plain
words (`caldav_bridge.notify.delivery_problems`).

The therapist sees recipients masked (enough to recognise an old or mistyped address); the
admin sees them whole, as in the practice's delivery log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from booking_web.i18n import N_, _
from caldav_bridge.notify import delivery_problems as problems
from caldav_bridge.store.outbox import (
    CLAIMED,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    UNCERTAIN,
    VOID,
    OutboxEntry,
)

_KINDS = {
    "booked": N_("Booking confirmation"),
    "changed": N_("Change notice"),
    "cancelled": N_("Cancellation notice"),
    "reminder": N_("Reminder"),
}
_STATES = {
    PENDING: N_("waiting"),
    CLAIMED: N_("being sent"),
    SENDING: N_("being sent"),
    SENT: N_("sent"),
    FAILED: N_("failed"),
    UNCERTAIN: N_("uncertain"),
    VOID: N_("not sent"),
}
_PROBLEMS = {
    problems.ADDRESS_REFUSED: N_("The address was refused: it may be wrong or no longer exist."),
    problems.NUMBER_REFUSED: N_("The number was refused: it may be wrong or not a mobile."),
    problems.SMS_BLOCKED: N_("The patient has blocked SMS from the practice."),
    problems.MAIL_SERVER_TROUBLE: N_("The mail server could not take it for now."),
    problems.SMS_PROVIDER_TROUBLE: N_("The SMS service could not take it for now."),
    problems.MAY_HAVE_ARRIVED: N_(
        "Interrupted while sending: it may have arrived. Ask the patient if in doubt."
    ),
    problems.GAVE_UP: N_("Given up after many failed attempts."),
    problems.APPOINTMENT_CANCELLED: N_("Not needed any more: the appointment was cancelled."),
    problems.APPOINTMENT_MOVED: N_("Not needed any more: the appointment was moved."),
    problems.APPOINTMENT_STARTED: N_("Not needed any more: the appointment had started."),
    problems.SMS_OFF: N_("Not sent: SMS are turned off for this patient or appointment."),
    problems.PATIENT_ERASED: N_("Not sent: the patient's data was erased."),
    problems.UNKNOWN: N_("It could not be delivered. The admin's delivery log has the details."),
}


@dataclass(frozen=True)
class MessageRow:
    id: int
    created_at: datetime
    sent_at: datetime | None
    channel: str  # "email" | "sms"
    kind: str  # in the page's language
    recipient: str
    state: str
    state_text: str  # in the page's language
    problem: str  # plain words, "" when there is nothing to say
    problem_code: str | None  # `delivery_problems` code (None: nothing to say)


def message_rows(entries: Iterable[OutboxEntry], *, masked: bool) -> list[MessageRow]:
    return [_row(entry, masked) for entry in entries]


def _row(entry: OutboxEntry, masked: bool) -> MessageRow:
    problem = problems.delivery_problem(entry.state, entry.last_error)
    recipient = masked_recipient(entry.recipient) if masked else entry.recipient
    return MessageRow(
        id=entry.id,
        created_at=entry.created_at,
        sent_at=entry.sent_at,
        channel=entry.channel,
        kind=_(_KINDS[kind]) if (kind := kind_of(entry.template)) in _KINDS else entry.template,
        recipient=recipient,
        state=entry.state,
        state_text=_(_STATES.get(entry.state, entry.state)),
        problem=_(_PROBLEMS[problem]) if problem else "",
        problem_code=problem,
    )


def kind_of(template: str) -> str:
    """ "sms_reminder" -> "reminder", "booked_patient" -> "booked"."""
    return template.removeprefix("sms_").removesuffix("_patient").removesuffix("_therapist")


def masked_recipient(recipient: str) -> str:
    """ "zoe.muller@example.org" -> "z•••@example.org"; "+41791234567" -> "+41•••••••67"."""
    if "@" in recipient:
        local, domain = recipient.rsplit("@", 1)
        return f"{local[:1]}•••@{domain}"
    if len(recipient) > 6:
        return recipient[:3] + "•" * (len(recipient) - 5) + recipient[-2:]
    return "•" * len(recipient)

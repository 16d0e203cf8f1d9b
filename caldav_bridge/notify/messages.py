"""The messages the watcher decides to send, as values, and their form in the outbox.

A message is rendered completely when it is enqueued (subject, text, HTML, `.ics`, SMS body):
it says what was true at the change that caused it, and delivery only carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from caldav_bridge.store.outbox import OutboxEntry, OutboxMessage

Channel = Literal["email", "sms"]
Role = Literal["patient", "therapist"]
EMAIL: Channel = "email"
SMS: Channel = "sms"


@dataclass(frozen=True)
class Email:
    subject: str
    text: str
    html: str
    ics: str | None = None
    ics_name: str = "appointment.ics"


@dataclass(frozen=True)
class Sms:
    body: str


@dataclass(frozen=True)
class Outgoing:
    key: str  # idempotency key: the same decision taken twice enqueues one message
    channel: Channel
    recipient: str  # an email address or an E.164 phone number
    template: str
    role: Role
    language: str
    appointment_uid: str
    content: Email | Sms
    start_at: datetime | None = None  # reminders: the start time they announce

    def outbox_message(self) -> OutboxMessage:
        data: dict[str, Any] = {"role": self.role, "language": self.language}
        if isinstance(self.content, Email):
            data.update(
                subject=self.content.subject,
                text=self.content.text,
                html=self.content.html,
                ics=self.content.ics,
                ics_name=self.content.ics_name,
            )
        else:
            data["body"] = self.content.body
        if self.start_at is not None:
            data["start_at"] = self.start_at.isoformat()
        return OutboxMessage(
            key=self.key,
            channel=self.channel,
            recipient=self.recipient,
            template=self.template,
            appointment_uid=self.appointment_uid,
            data=data,
        )


def content_of(entry: OutboxEntry) -> Email | Sms:
    data = entry.data
    if entry.channel == SMS:
        return Sms(body=str(data["body"]))
    return Email(
        subject=str(data["subject"]),
        text=str(data["text"]),
        html=str(data["html"]),
        ics=_optional(data, "ics"),
        ics_name=str(data.get("ics_name") or "appointment.ics"),
    )


def announced_start(entry: OutboxEntry) -> datetime | None:
    """The start time a reminder announces (None for other messages)."""
    value = entry.data.get("start_at")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _optional(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return str(value) if value else None

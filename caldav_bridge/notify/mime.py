"""An outbox email as a MIME message: text and HTML alternatives, and the `.ics` attached.

    multipart/mixed
      multipart/alternative: text/plain, text/html
      text/calendar; method=PUBLISH (attachment)

The Message-ID derives from the idempotency key: should a message ever be delivered twice
(see `caldav_bridge.notify.outbox`), both copies carry the same Message-ID, which mail
programs use to show one.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr

from caldav_bridge.notify.messages import Email


def email_message(
    content: Email,
    *,
    sender: str,
    recipient: str,
    key: str,
    reply_to: str,
    date: datetime,
) -> EmailMessage:
    """The message; header values come from templates and the store, never with CR or LF."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = sender
    message["To"] = Address(addr_spec=recipient)
    if reply_to:
        message["Reply-To"] = reply_to
    _set_subject(message, " ".join(content.subject.split()))
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id(key, sender)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(content.text)
    message.add_alternative(content.html, subtype="html")
    if content.ics:
        message.add_attachment(
            content.ics,
            subtype="calendar",
            filename=content.ics_name,
            params={"method": "PUBLISH"},
        )
    return message


def _set_subject(message: EmailMessage, subject: str) -> None:
    """The Subject, encoded and folded by `email.header.Header`.

    Python 3.11's folder drops the space between two encoded words when it folds a long
    non-ASCII header ("mercredi,2 décembre"); Header keeps it, and `set_raw` stores the result
    as it is (its lines are short, so the policy does not fold it again).
    """
    charset = "us-ascii" if subject.isascii() else "utf-8"
    encoded = Header(subject, charset, header_name="Subject").encode(linesep="\r\n")
    message.set_raw("Subject", encoded)


def message_id(key: str, sender: str) -> str:
    domain = parseaddr(sender)[1].rpartition("@")[2] or "caldav-bridge.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def envelope_sender(sender: str) -> str:
    """The address of ``"Name <address>"``, for SMTP's MAIL FROM."""
    return parseaddr(sender)[1]

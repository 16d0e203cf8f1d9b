"""Senders: they only send (CONVENTIONS.md). Which message, to whom, and when is decided
elsewhere; a sender puts one message on the wire and says how that went.

Every sender calls ``go()`` immediately before the step that cannot be taken back (SMTP's
DATA, Twilio's POST, the file's rename) and sends nothing if it returns False. A failure
raises `TemporaryFailure` (try again later), `PermanentFailure` (never will work) or
`UnknownOutcome` (the message may have gone out). ``find`` looks a message up at the provider
after a crash: a `Lookup` (``known=False``: the provider cannot tell, as with SMTP).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import requests
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]
from twilio.http.http_client import TwilioHttpClient  # type: ignore[import-untyped]
from twilio.rest import Client  # type: ignore[import-untyped]

from caldav_bridge.config import SmtpConfig, TwilioConfig
from caldav_bridge.errors import BridgeError
from caldav_bridge.notify.messages import Email, Sms
from caldav_bridge.notify.mime import email_message, envelope_sender

TIMEOUT = 30.0  # seconds, for every network operation of a sender
# The twilio library logs each request's query (a patient's number) at INFO: keep it quiet.
_TWILIO_HTTP_LOG = logging.getLogger("caldav_bridge.notify.twilio_http")
_TWILIO_HTTP_LOG.setLevel(logging.WARNING)
PERMANENT_TWILIO_CODES = {21211, 21214, 21408, 21610, 21612, 21614, 21617}
# Refusals of our login, not of the message: fix the credentials and it goes out.
SMTP_LOGIN_CODES = {530, 534, 535, 538}


class DeliveryError(BridgeError):
    """``code`` is a short, data-free classification for logs ("smtp 550", "twilio 21614")."""

    def __init__(self, reason: str, code: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


class TemporaryFailure(DeliveryError):
    pass


class PermanentFailure(DeliveryError):
    pass


class UnknownOutcome(DeliveryError):
    """The provider may have accepted the message: never send it blindly again."""


@dataclass(frozen=True)
class Envelope:
    id: int
    key: str
    channel: str
    recipient: str
    template: str
    content: Email | Sms


@dataclass(frozen=True)
class Lookup:
    known: bool
    provider_id: str | None = None  # known and None: it was never sent


class Sender(Protocol):
    def send(self, envelope: Envelope, go: Callable[[], bool]) -> str | None:
        """The provider's id for the message, or None if ``go()`` said not to send."""

    def find(self, envelope: Envelope) -> Lookup: ...


@dataclass(frozen=True)
class Senders:
    email: Sender
    sms: Sender

    def of(self, channel: str) -> Sender:
        return self.sms if channel == "sms" else self.email


@dataclass(frozen=True)
class EmailIdentity:
    sender: str  # "Cabinet du Lac <rendez-vous@…>"
    reply_to: str
    clock: Callable[[], datetime]


class SmtpSender:
    def __init__(self, config: SmtpConfig, password: str | None, identity: EmailIdentity) -> None:
        self.config = config
        self.password = password
        self.identity = identity

    def send(self, envelope: Envelope, go: Callable[[], bool]) -> str | None:
        assert isinstance(envelope.content, Email)
        message = email_message(
            envelope.content,
            sender=self.identity.sender,
            recipient=envelope.recipient,
            key=envelope.key,
            reply_to=self.identity.reply_to,
            date=self.identity.clock(),
        )
        try:
            smtp = self._connect()
        except smtplib.SMTPResponseException as exc:
            raise smtp_failure(exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise TemporaryFailure(f"SMTP server unreachable: {exc}", "smtp unreachable") from exc
        try:
            _envelope(smtp, envelope_sender(self.identity.sender), envelope.recipient)
            if not go():
                return None
            return _data(smtp, message.as_bytes())
        finally:
            _close(smtp)

    def find(self, envelope: Envelope) -> Lookup:
        return Lookup(known=False)  # SMTP keeps no record a client could ask for

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        if c.security == "tls":
            context = ssl.create_default_context()
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(c.host, c.port, timeout=TIMEOUT, context=context)
        else:
            smtp = smtplib.SMTP(c.host, c.port, timeout=TIMEOUT)
        try:
            smtp.ehlo()
            if c.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if c.username:
                smtp.login(c.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


def _envelope(smtp: smtplib.SMTP, sender: str, recipient: str) -> None:
    """MAIL FROM and RCPT TO: a refused recipient (550) is known before anything is sent."""
    try:
        code, reply = smtp.mail(sender)
        if code < 400:
            code, reply = smtp.rcpt(recipient)
        if code >= 400:
            raise smtp_failure(code, reply)
    except smtplib.SMTPResponseException as exc:
        raise smtp_failure(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryFailure(f"SMTP connection lost: {exc}", "smtp unreachable") from exc
    except UnicodeEncodeError as exc:
        raise PermanentFailure("the address needs SMTPUTF8", "smtp address") from exc


def _close(smtp: smtplib.SMTP) -> None:
    """QUIT if the server still listens; whatever happens, the outcome is already decided."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _data(smtp: smtplib.SMTP, payload: bytes) -> str:
    """DATA after the point of no return: an answer is definite, silence is not."""
    try:
        _code, reply = smtp.data(payload)
    except smtplib.SMTPResponseException as exc:
        raise smtp_failure(exc.smtp_code, exc.smtp_error) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise UnknownOutcome(f"connection lost during DATA: {exc}", "smtp data") from exc
    return reply.decode("utf-8", "replace")[:64]


def smtp_failure(code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    reason = f"SMTP {code} {text}".strip()
    if 500 <= code < 600 and code not in SMTP_LOGIN_CODES:
        return PermanentFailure(reason, f"smtp {code}")
    return TemporaryFailure(reason, f"smtp {code}")


class TwilioSender:
    def __init__(self, config: TwilioConfig, auth_token: str) -> None:
        self.config = config
        http = TwilioHttpClient(timeout=TIMEOUT, logger=_TWILIO_HTTP_LOG)
        self.client = Client(config.account_sid, auth_token, http_client=http)
        if config.api_base_url:
            self.client.api.base_url = config.api_base_url

    def send(self, envelope: Envelope, go: Callable[[], bool]) -> str | None:
        assert isinstance(envelope.content, Sms)
        if not go():
            return None
        try:
            created = self.client.messages.create(
                to=envelope.recipient, body=envelope.content.body, **self._origin()
            )
        except TwilioRestException as exc:
            raise twilio_failure(exc) from exc
        except (requests.ConnectTimeout, requests.ConnectionError) as exc:
            if _never_connected(exc):
                raise TemporaryFailure(f"Twilio unreachable: {exc}", "twilio unreachable") from exc
            raise UnknownOutcome(f"Twilio request interrupted: {exc}", "twilio lost") from exc
        except OSError as exc:
            raise UnknownOutcome(f"Twilio request interrupted: {exc}", "twilio lost") from exc
        return str(created.sid)

    def find(self, envelope: Envelope) -> Lookup:
        """The message with this recipient and body among the recent ones, if Twilio has it."""
        assert isinstance(envelope.content, Sms)
        try:
            recent = self.client.messages.list(to=envelope.recipient, limit=50)
        except TwilioRestException as exc:
            raise twilio_failure(exc) from exc
        except OSError as exc:
            raise TemporaryFailure(f"Twilio unreachable: {exc}", "twilio unreachable") from exc
        for message in recent:
            if message.body == envelope.content.body:
                return Lookup(known=True, provider_id=str(message.sid))
        return Lookup(known=True)

    def _origin(self) -> dict[str, str]:
        if self.config.messaging_service_sid:
            return {"messaging_service_sid": self.config.messaging_service_sid}
        return {"from_": self.config.from_number}


def twilio_failure(exc: TwilioRestException) -> DeliveryError:
    status, code = int(exc.status), exc.code
    reason = f"Twilio {status} {code}: {exc.msg}"
    if status == 429 or status >= 500 or status in (401, 403):  # busy, down, or our credentials
        return TemporaryFailure(reason, f"twilio {status}")
    if code in PERMANENT_TWILIO_CODES or 400 <= status < 500:
        return PermanentFailure(reason, f"twilio {code or status}")
    return TemporaryFailure(reason, f"twilio {status}")


def _never_connected(exc: requests.RequestException) -> bool:
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    reason = getattr(cause, "reason", None)
    return type(reason).__name__ == "NewConnectionError"


class FileSender:
    """The demo's sender: each message becomes a file in ``folder`` (``.eml`` or ``.txt``)."""

    def __init__(self, folder: Path, identity: EmailIdentity) -> None:
        self.folder = folder
        self.identity = identity

    def send(self, envelope: Envelope, go: Callable[[], bool]) -> str | None:
        path = self._path(envelope)
        payload = self._payload(envelope)
        self.folder.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        partial.write_bytes(payload)
        if not go():
            partial.unlink()
            return None
        os.replace(partial, path)
        return path.name

    def find(self, envelope: Envelope) -> Lookup:
        path = self._path(envelope)
        return Lookup(known=True, provider_id=path.name if path.exists() else None)

    def _path(self, envelope: Envelope) -> Path:
        suffix = "txt" if isinstance(envelope.content, Sms) else "eml"
        return self.folder / f"{envelope.id:06d}-{envelope.template}.{suffix}"

    def _payload(self, envelope: Envelope) -> bytes:
        if isinstance(envelope.content, Sms):
            return f"To: {envelope.recipient}\n\n{envelope.content.body}\n".encode()
        message = email_message(
            envelope.content,
            sender=self.identity.sender,
            recipient=envelope.recipient,
            key=envelope.key,
            reply_to=self.identity.reply_to,
            date=self.identity.clock(),
        )
        return message.as_bytes()

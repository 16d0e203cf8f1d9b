"""A real SMTP server on loopback (aiosmtpd) that keeps every message it accepts.

Tests use it as the practice's mail server: they read what a patient or therapist would
receive, make it refuse an address (550), stop and restart it (server down), or hold its
answer to DATA (the message is in, the sender does not know yet) to kill a sender then.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

HOLD_LIMIT = 60.0  # seconds a held DATA answer waits at most


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    accepted_at: float  # time.perf_counter() when the server accepted it

    @property
    def to(self) -> str:
        return self.recipients[0]

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    def part(self, content_type: str) -> str:
        """The decoded text of the first part of ``content_type`` (e.g. "text/plain")."""
        for part in self.message.walk():
            if part.get_content_type() == content_type and not part.is_multipart():
                content = part.get_content()
                return content.decode() if isinstance(content, bytes) else str(content)
        raise AssertionError(f"no {content_type} part in {self.subject!r}")


@dataclass
class _Handler:
    refused: dict[str, str] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    condition: threading.Condition = field(default_factory=threading.Condition)
    hold: threading.Event | None = None
    holding: threading.Event = field(default_factory=threading.Event)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address.lower() in self.refused:
            return self.refused[address.lower()]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.condition:
            self.received.append(
                Received(envelope.mail_from, tuple(envelope.rcpt_tos), message, time.perf_counter())
            )
            self.condition.notify_all()
        hold = self.hold
        if hold is not None:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, hold.wait, HOLD_LIMIT)
        return "250 2.0.0 Ok: queued"


class SmtpServer:
    def __init__(self, port: int | None = None, logins: dict[str, str] | None = None) -> None:
        """``logins``: user name -> password; the server then asks for one (AUTH PLAIN or
        LOGIN, without TLS on loopback) and answers 535 to a wrong one."""
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.handler = _Handler()
        self.logins = logins
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        auth: dict[str, Any] = {}
        if self.logins is not None:
            auth = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = Controller(self.handler, hostname=self.host, port=self.port, **auth)
        self._controller.start()
        return self

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        known = isinstance(data, LoginPassword) and self.logins is not None
        user = data.login.decode() if known else ""
        ok = known and self.logins.get(user) == data.password.decode()  # type: ignore[union-attr]
        return AuthResult(success=ok, handled=False)

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.release()
        self.stop()

    def refuse(self, address: str, reply: str = "550 5.1.1 Mailbox unavailable") -> None:
        self.handler.refused[address.lower()] = reply

    def hold_answers(self) -> None:
        """From now on, accept each message but answer DATA only after `release`."""
        self.handler.hold = threading.Event()

    def release(self) -> None:
        if self.handler.hold is not None:
            self.handler.hold.set()
            self.handler.hold = None

    def wait_until_holding(self, timeout: float = 30.0) -> None:
        assert self.handler.holding.wait(timeout), "no message reached DATA"

    @property
    def received(self) -> list[Received]:
        with self.handler.condition:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """The messages once at least ``count`` arrived (AssertionError after ``timeout``)."""
        with self.handler.condition:
            arrived = self.handler.condition.wait_for(
                lambda: len(self.handler.received) >= count, timeout
            )
            found = list(self.handler.received)
        assert arrived, f"{len(found)} of {count} messages arrived within {timeout} s"
        return found

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if address in r.recipients]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])

"""A loopback HTTP server that answers like Twilio's Messages API (2010-04-01).

The real ``twilio`` client talks to it (``api_base_url``): POST creates a message (201 with a
``SM…`` SID), GET lists them newest first, filtered by ``To``. Tests script failures (500 or
429 for the next requests, an error code for a number: 21211, 21614, 21610) and may hold the
answer to a POST (after the message was created, or refused), to kill the sender then.
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "test-auth-token"
HOLD_LIMIT = 60.0


@dataclass(frozen=True)
class Failure:
    status: int
    code: int
    message: str


@dataclass
class TwilioState:
    messages: list[dict[str, Any]] = field(default_factory=list)
    next_failures: list[Failure] = field(default_factory=list)
    refused: dict[str, Failure] = field(default_factory=dict)
    posts: int = 0
    hold: threading.Event | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    condition: threading.Condition = field(default_factory=threading.Condition)


class TwilioServer:
    def __init__(self) -> None:
        self.state = TwilioState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> TwilioServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
        self._server.shutdown()
        self._server.server_close()

    def fail_next(self, status: int, code: int, message: str = "error", times: int = 1) -> None:
        self.state.next_failures.extend([Failure(status, code, message)] * times)

    def refuse(self, number: str, code: int, message: str, status: int = 400) -> None:
        self.state.refused[number] = Failure(status, code, message)

    def hold_answers(self) -> None:
        self.state.hold = threading.Event()

    def release(self) -> None:
        if self.state.hold is not None:
            self.state.hold.set()
            self.state.hold = None

    def wait_until_holding(self, timeout: float = 30.0) -> None:
        assert self.state.holding.wait(timeout), "no message was posted"

    @property
    def messages(self) -> list[dict[str, Any]]:
        with self.state.condition:
            return list(self.state.messages)

    def wait_for(self, count: int, timeout: float = 30.0) -> list[dict[str, Any]]:
        with self.state.condition:
            arrived = self.state.condition.wait_for(
                lambda: len(self.state.messages) >= count, timeout
            )
            found = list(self.state.messages)
        assert arrived, f"{len(found)} of {count} SMS arrived within {timeout} s"
        return found


class _Handler(BaseHTTPRequestHandler):
    state: TwilioState
    path_prefix = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet

    def do_POST(self) -> None:
        if not self._authorized():
            return
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        with self.state.condition:
            self.state.posts += 1
            failure = self.state.next_failures.pop(0) if self.state.next_failures else None
            failure = failure or self.state.refused.get(form.get("To", ""))
            if failure is not None:
                self.state.condition.notify_all()
        if failure is not None:
            self._hold()
            self._json(failure.status, _error(failure))
            return
        message = _message(form)
        with self.state.condition:
            self.state.messages.append(message)
            self.state.condition.notify_all()
        self._hold()
        self._json(201, message)

    def _hold(self) -> None:
        """While the test holds answers: the request is in, the client waits."""
        hold = self.state.hold
        if hold is not None:
            self.state.holding.set()
            hold.wait(HOLD_LIMIT)

    def do_GET(self) -> None:
        if not self._authorized():
            return
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        with self.state.condition:
            found = [m for m in self.state.messages if m["to"] == query.get("To", m["to"])]
        found.reverse()  # newest first, as Twilio lists them
        size = int(query.get("PageSize", "50"))
        page = {
            "messages": found[:size],
            "end": min(size, len(found)) - 1,
            "first_page_uri": url.path,
            "next_page_uri": None,
            "page": 0,
            "page_size": size,
            "previous_page_uri": None,
            "start": 0,
            "uri": self.path,
        }
        self._json(200, page)

    def _authorized(self) -> bool:
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if urlparse(self.path).path != self.path_prefix:
            self._json(404, {"code": 20404, "message": "not found", "status": 404})
            return False
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._json(401, {"code": 20003, "message": "Authenticate", "status": 401})
            return False
        return True

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _message(form: dict[str, str]) -> dict[str, Any]:
    now = formatdate(usegmt=True)
    return {
        "sid": "SM" + uuid.uuid4().hex,
        "account_sid": ACCOUNT_SID,
        "to": form.get("To"),
        "from": form.get("From"),
        "messaging_service_sid": form.get("MessagingServiceSid"),
        "body": form.get("Body"),
        "status": "queued",
        "num_segments": "1",
        "direction": "outbound-api",
        "date_created": now,
        "date_updated": now,
        "date_sent": None,
        "api_version": "2010-04-01",
        "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
    }


def _error(failure: Failure) -> dict[str, Any]:
    return {
        "code": failure.code,
        "message": failure.message,
        "more_info": f"https://www.twilio.com/docs/errors/{failure.code}",
        "status": failure.status,
    }

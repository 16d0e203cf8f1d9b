"""The one WSGI application of `caldav-bridge serve`, served in-process by waitress on loopback.

It is what `serve` runs (`build_runtime` + `wsgi_app` on waitress) without the watcher thread
and without a new process per test, so CalDAV tests stay fast on both databases. The store of
the running server is exposed, so tests can check what a request left in the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import requests
import waitress
from waitress import wasyncore

from bridge_server.commands import init
from bridge_server.wsgi import build_runtime, wsgi_app
from caldav_bridge.accounts import set_password
from caldav_bridge.passwords import generate_password
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Change, Item, Store
from caldav_bridge.store.database import DATABASE_URL_ENV

CALENDAR = "anne/appointments"


@dataclass(frozen=True)
class DavServer:
    base_url: str
    runtime: Runtime
    passwords: dict[str, str]

    @property
    def store(self) -> Store:
        return self.runtime.store

    @property
    def dav_url(self) -> str:
        return f"{self.base_url}/dav/"

    def auth(self, login: str = "anne") -> tuple[str, str]:
        return login, self.passwords[login]

    def items(self, path: str = CALENDAR) -> list[Item]:
        with self.store.read() as tx:
            return tx.items(path)

    def changes(self, path: str = CALENDAR) -> list[Change]:
        with self.store.read() as tx:
            return tx.changes_since(path, 0)


@contextmanager
def dav_server(practice_toml: Path, database_url: str, threads: int = 8) -> Iterator[DavServer]:
    """The demo practice (therapists anne and marc, fresh passwords) served on loopback."""
    env = {DATABASE_URL_ENV: database_url}
    init(practice_toml, env, demo=False, admin_password=None)
    runtime = build_runtime(practice_toml, env)
    passwords = {login: generate_password() for login in ("anne", "marc")}
    for login, password in passwords.items():
        set_password(runtime.store, login, password, actor="test")
    server = waitress.create_server(
        wsgi_app(runtime), host="127.0.0.1", port=0, threads=threads, ident="caldav-bridge"
    )
    stopping = threading.Event()
    thread = threading.Thread(target=_serve, args=(server, stopping), name="waitress")
    thread.start()
    try:
        yield DavServer(f"http://127.0.0.1:{server.effective_port}", runtime, passwords)
    finally:
        stopping.set()
        thread.join(timeout=30)
        runtime.store.close()


def _serve(server: Any, stopping: threading.Event) -> None:
    """waitress's loop, stopped from the inside: sockets are never closed under its feet."""
    while not stopping.is_set():
        wasyncore.loop(timeout=0.05, map=server._map, use_poll=True, count=1)
    server.task_dispatcher.shutdown()  # workers finish (and may still pull the trigger)
    wasyncore.close_all(server._map)


REQUESTS = Path(__file__).resolve().parents[1] / "data" / "requests"


@dataclass(frozen=True)
class RawRequest:
    """A client's request kept as a file: ``METHOD path``, headers, a blank line, the body.

    ``$name`` placeholders (``string.Template``) are filled in when it is sent.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: str

    @classmethod
    def load(cls, name: str, **values: str) -> RawRequest:
        text = Template((REQUESTS / name).read_text(encoding="utf-8")).substitute(values)
        head, _, body = text.partition("\n\n")
        request_line, *header_lines = head.splitlines()
        method, path = request_line.split(" ", 1)
        headers = dict(line.split(": ", 1) for line in header_lines)
        return cls(method, path, headers, body.rstrip("\n"))

    def send(self, server: DavServer, login: str = "anne", **headers: str) -> requests.Response:
        """Sent as the client would, with ``login``'s password; redirects are not followed."""
        return requests.request(
            self.method,
            server.base_url + self.path,
            headers={**self.headers, **headers},
            data=self.body.encode("utf-8"),
            auth=server.auth(login) if login else None,
            allow_redirects=False,
            timeout=30,
        )

"""Who may do what over CalDAV (radicale_plugin.rights), on SQLite and PostgreSQL.

Every user (anonymous, anne, marc, the admin, a deactivated therapist) sends every method to
every path, through the one WSGI application `caldav-bridge serve` runs. Each answer is the
one the rules give, and a refused request leaves the stored calendars exactly as they were
(checked in the store). Writes the rules allow are checked one by one on a fresh practice.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pytest
from werkzeug.test import Client

from bridge_server.commands import init
from bridge_server.wsgi import build_runtime, wsgi_app
from caldav_bridge.accounts import set_password
from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV

PASSWORDS = {
    "anne": "anne-password-1",
    "marc": "marc-password-1",
    "admin": "admin-password-1",
    "paul": "paul-password-1",  # a therapist who has left: deactivated
}
USERS = ("anonymous", "anne", "marc", "admin", "paul")
ITEM = "/dav/anne/appointments/a.ics"
PATHS = (
    "/dav/",
    "/dav/anne/",
    "/dav/anne/appointments/",
    ITEM,
    "/dav/anne/private/",
    "/dav/marc/appointments/",
    "/dav/../etc",
    "/dav/anne/../marc/appointments/",
)
METHODS = ("PROPFIND", "REPORT", "GET", "PUT", "DELETE", "MKCALENDAR", "PROPPATCH", "MOVE")
# Where each path sits after Radicale resolves it, and whose it is.
RESOLVED = {
    "/dav/": "",
    "/dav/anne/": "anne",
    "/dav/anne/appointments/": "anne/appointments",
    ITEM: "anne/appointments/a.ics",
    "/dav/anne/private/": "anne/private",
    "/dav/marc/appointments/": "marc/appointments",
    "/dav/../etc": "etc",
    "/dav/anne/../marc/appointments/": "marc/appointments",
}
MOVE_TO = {
    "": "/dav/moved/",
    "anne": "/dav/anne/moved/",
    "anne/appointments": "/dav/anne/moved/",
    "anne/appointments/a.ics": "/dav/anne/private/a.ics",
    "anne/private": "/dav/anne/moved/",
    "marc/appointments": "/dav/marc/moved/",
    "etc": "/dav/etc-moved/",
}


def event(uid: str, summary: str, day: str = "20261202") -> str:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20261101T080000Z\r\nDTSTART:{day}T130000Z\r\n"
        f"DTEND:{day}T140000Z\r\nSUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop>'
    "<getetag/><displayname/><resourcetype/></prop></propfind>"
)
REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">'
    '<D:prop><D:getetag/></D:prop><C:filter><C:comp-filter name="VCALENDAR">'
    '<C:comp-filter name="VEVENT"/></C:comp-filter></C:filter></C:calendar-query>'
)
PROPPATCH = (
    '<?xml version="1.0" encoding="utf-8"?><propertyupdate xmlns="DAV:"><set><prop>'
    "<displayname>Renamed</displayname></prop></set></propertyupdate>"
)


@dataclass
class Practice:
    client: Client
    store: Store

    def send(self, method: str, path: str, user: str, **headers: str) -> int:
        body = {
            "PROPFIND": PROPFIND,
            "REPORT": REPORT,
            "PROPPATCH": PROPPATCH,
            "PUT": event("a" if path == ITEM else "whole", "Written"),
        }.get(method, "")
        if method == "MOVE":
            headers["Destination"] = MOVE_TO[RESOLVED.get(path, path)]
        if method in ("PROPFIND", "REPORT"):
            headers.setdefault("Depth", "0")
        if user != "anonymous":
            token = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        response = self.client.open(path, method=method, data=body, headers=headers)
        response.close()
        return response.status_code


@pytest.fixture
def practice(practice_toml: Path, database_url: str) -> Iterator[Practice]:
    """The demo practice; anne has appointments (one event) and a calendar of her own."""
    env = {DATABASE_URL_ENV: database_url}
    init(practice_toml, env, demo=False, admin_password=PASSWORDS["admin"])
    runtime = build_runtime(practice_toml, env)
    store = runtime.store
    with store.write() as tx:
        tx.ensure_user("paul", "therapist")
    for login in ("anne", "marc", "paul"):
        set_password(store, login, PASSWORDS[login], actor="test")
    with store.write() as tx:
        tx.set_active("paul", False)
    practice = Practice(Client(wsgi_app(runtime)), store)
    seed = [
        ("PUT", ITEM, "anne", event("a", "Appointment")),
        ("MKCALENDAR", "/dav/anne/private/", "anne", ""),
        ("PUT", "/dav/anne/private/p.ics", "anne", event("p", "Private", "20261203")),
        ("PUT", "/dav/marc/appointments/m.ics", "marc", event("m", "Marc's")),
    ]
    for method, path, user, body in seed:
        token = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
        response = practice.client.open(
            path, method=method, data=body, headers={"Authorization": f"Basic {token}"}
        )
        assert response.status_code == 201, (method, path, response.get_data(as_text=True))
    yield practice
    store.close()


class Stored(NamedTuple):
    collections: tuple[tuple[str, str, str, tuple[tuple[str, str], ...]], ...]
    items: tuple[tuple[str, str, str, str], ...]
    changes: int


def stored(store: Store) -> Stored:
    """Every collection, item and change row, as the store holds them."""
    with store.read() as tx:
        collections, pending = [], [""]
        while pending:
            for child in tx.child_collections(pending.pop()):
                props = tuple(sorted(child.props.items()))
                collections.append((child.path, child.owner, child.tag, props))
                pending.append(child.path)
        items = [
            (i.collection_path, i.href, i.etag, i.text) for c in collections for i in tx.items(c[0])
        ]
        changes = len(tx.changes_after(0, limit=1_000_000))
    return Stored(tuple(sorted(collections)), tuple(sorted(items)), changes)


# -- the rules -------------------------------------------------------------------------------

READS = ("PROPFIND", "REPORT", "GET")
# What Radicale answers when the rights allow a request: (resolved path, method) -> status.
ALLOWED_READ = {"PROPFIND": 207, "REPORT": 207, "GET": 200}
OWN_WRITES = {
    # The principal: calendars are created in it; it is never deleted or replaced.
    ("anne", "PROPPATCH"): 207,
    # The appointments calendar: its items are writable, the calendar as a whole is not.
    ("anne/appointments", "MKCALENDAR"): 409,  # exists
    ("anne/appointments", "PROPPATCH"): 207,
    ("anne/appointments", "MOVE"): 405,
    ("anne/appointments/a.ics", "PUT"): 204,
    ("anne/appointments/a.ics", "DELETE"): 200,
    ("anne/appointments/a.ics", "MOVE"): 201,
    ("anne/appointments/a.ics", "PROPPATCH"): 403,  # not a collection (Radicale)
    # A calendar anne made: hers to manage entirely.
    ("anne/private", "PUT"): 201,
    ("anne/private", "DELETE"): 200,
    ("anne/private", "MKCALENDAR"): 409,
    ("anne/private", "PROPPATCH"): 207,
    ("anne/private", "MOVE"): 405,
}
CHANGING = {
    ("anne", "PROPPATCH"),
    ("anne/appointments", "PROPPATCH"),
    ("anne/appointments/a.ics", "PUT"),
    ("anne/appointments/a.ics", "DELETE"),
    ("anne/appointments/a.ics", "MOVE"),
    ("anne/private", "PUT"),
    ("anne/private", "DELETE"),
    ("anne/private", "PROPPATCH"),
}


def allowed_read(resolved: str, method: str) -> int:
    if method == "GET" and "/" not in resolved:
        return 403  # Radicale lists no principal ("Directory listings are not supported")
    return ALLOWED_READ[method]


def owned_by(user: str, resolved: str) -> bool:
    return bool(resolved) and resolved.split("/")[0] == user


def expected(user: str, path: str, method: str) -> int:
    """The status the rules give (radicale_plugin.rights' table)."""
    resolved = RESOLVED[path]
    if user == "paul":
        return 401  # a deactivated login fails like a wrong password, whatever it asks
    if method == "GET" and resolved == "":
        return 302  # Radicale sends everyone to its (disabled) web interface
    if user == "anonymous":
        return 401
    refused = 403
    if user == "admin":  # reads everything, writes nothing
        if method not in READS:
            return refused
        return 404 if resolved == "etc" else allowed_read(resolved, method)
    if method in READS:
        if resolved == "" or owned_by(user, resolved):
            return allowed_read(resolved, method)
        return refused
    if not owned_by(user, resolved):
        return refused
    key = (resolved.replace(user, "anne", 1), method)  # marc's calendar works as anne's
    return OWN_WRITES.get(key, refused)


def changes_store(user: str, path: str, method: str) -> bool:
    resolved = RESOLVED[path]
    if user not in ("anne", "marc") or not owned_by(user, resolved):
        return False
    return (resolved.replace(user, "anne", 1), method) in CHANGING


CASES = [(path, method) for path in PATHS for method in METHODS]


@pytest.mark.parametrize("user", USERS)
def test_every_request_is_answered_as_the_rules_say(practice: Practice, user: str) -> None:
    """Refused requests (and allowed ones that change nothing) leave the store unchanged."""
    answers: dict[tuple[str, str], tuple[int, int]] = {}
    for path, method in CASES:
        if changes_store(user, path, method):
            continue  # test_an_allowed_write_changes_only_its_target
        before = stored(practice.store)
        status = practice.send(method, path, user)
        answers[(path, method)] = (status, expected(user, path, method))
        assert stored(practice.store) == before, (user, method, path, status)
    wrong = {case: got for case, got in answers.items() if got[0] != got[1]}
    assert wrong == {}, "(got, expected) per (path, method)"


WRITES = sorted({(u, p, m) for u in ("anne", "marc") for p, m in CASES if changes_store(u, p, m)})


def test_the_allowed_writes_are_the_owners_changes() -> None:
    """Only the owner changes a calendar: anne everything listed, marc his calendar's name."""
    by_anne = {(RESOLVED[p], m) for u, p, m in WRITES if u == "anne"}
    by_marc = {(RESOLVED[p], m) for u, p, m in WRITES if u == "marc"}
    assert by_anne == CHANGING
    assert by_marc == {("marc/appointments", "PROPPATCH")}


@pytest.mark.parametrize(("user", "path", "method"), WRITES)
def test_an_allowed_write_changes_only_its_target(
    practice: Practice, user: str, path: str, method: str
) -> None:
    before = stored(practice.store)
    assert practice.send(method, path, user) == expected(user, path, method)
    after = stored(practice.store)
    assert after != before
    touched = {"anne/appointments/a.ics": "anne/appointments"}.get(RESOLVED[path], RESOLVED[path])
    if method == "MOVE":
        touched = "anne/"
    untouched = [c for c in before.collections if not c[0].startswith(touched)]
    assert [c for c in after.collections if not c[0].startswith(touched)] == untouched
    assert [i for i in after.items if not i[0].startswith(touched)] == [
        i for i in before.items if not i[0].startswith(touched)
    ]

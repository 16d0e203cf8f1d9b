"""Rights beyond the matrix: listings, path tricks on the wire, moves between therapists.

Against the real `caldav-bridge serve` (raw requests, so that no client tidies a path before
the server sees it), on SQLite and PostgreSQL, checking the store after every refusal.
"""

from __future__ import annotations

import base64
import http.client
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import caldav
import pytest

from caldav_bridge.accounts import set_password
from caldav_bridge.config_loader import load_config
from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV, database_url
from tests.support.serve import run_cli, serving

PASSWORDS = {"anne": "anne-password-1", "marc": "marc-password-1", "admin": "admin-password-1"}
EVENT = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\n"
    "DTSTAMP:20261101T080000Z\r\nDTSTART:20261202T130000Z\r\nDTEND:20261202T140000Z\r\n"
    "SUMMARY:{summary}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
PROPFIND = (
    '<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop>'
    "<resourcetype/><current-user-privilege-set/></prop></propfind>"
)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


@dataclass(frozen=True)
class Demo:
    base_url: str
    store: Store

    def send(
        self, method: str, path: str, user: str | None, body: str = "", **headers: str
    ) -> Answer:
        """``path`` goes on the wire exactly as given."""
        url = urlsplit(self.base_url)
        assert url.hostname is not None
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
        if user is not None:
            token = base64.b64encode(f"{user}:{PASSWORDS[user]}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        try:
            connection.request(method, path, body=body.encode(), headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.read().decode("utf-8", "replace"))
        finally:
            connection.close()

    def stored(self) -> tuple[object, ...]:
        with self.store.read() as tx:
            collections, pending = [], [""]
            while pending:
                for child in tx.child_collections(pending.pop()):
                    collections.append((child.path, child.tag, sorted(child.props.items())))
                    pending.append(child.path)
            items = [
                (i.collection_path, i.href, i.etag) for c in collections for i in tx.items(c[0])
            ]
            return tuple(sorted(collections)), tuple(sorted(items))


@pytest.fixture(params=["sqlite", "postgres"])
def database_env(request: pytest.FixtureRequest) -> dict[str, str]:
    if request.param == "sqlite":
        return {DATABASE_URL_ENV: ""}
    return {DATABASE_URL_ENV: str(request.getfixturevalue("postgres_url"))}


@pytest.fixture
def demo(practice_toml: Path, database_env: dict[str, str]) -> Iterator[Demo]:
    config = ["--config", str(practice_toml)]
    assert run_cli(*config, "init", env=database_env).returncode == 0
    server = load_config(practice_toml).server
    store = Store.connect(database_url(server.database_url, server.data_dir, database_env))
    for login, password in PASSWORDS.items():
        set_password(store, login, password, actor="test")
    with serving(practice_toml, database_env) as base_url:
        demo = Demo(base_url, store)
        for user, path in (
            ("anne", "/dav/anne/appointments/a.ics"),
            ("marc", "/dav/marc/appointments/m.ics"),
        ):
            put = demo.send("PUT", path, user, EVENT.format(uid=user, summary=f"{user}'s"))
            assert put.status == 201, put.body
        yield demo
    store.close()


def hrefs(body: str) -> set[str]:
    return set(re.findall(r"<href>([^<]*)</href>", body.split("<response>", 1)[-1]))


def listed(demo: Demo, user: str, path: str) -> set[str]:
    answer = demo.send("PROPFIND", path, user, PROPFIND, Depth="1")
    assert answer.status == 207
    return {m for m in re.findall(r"<response><href>([^<]*)</href>", answer.body)}


def test_a_listing_shows_only_what_the_user_may_read(demo: Demo) -> None:
    assert listed(demo, "anne", "/dav/") == {"/dav/", "/dav/anne/"}
    assert listed(demo, "marc", "/dav/") == {"/dav/", "/dav/marc/"}
    assert listed(demo, "admin", "/dav/") == {"/dav/", "/dav/anne/", "/dav/marc/"}
    assert listed(demo, "admin", "/dav/anne/") == {"/dav/anne/", "/dav/anne/appointments/"}


def test_the_admin_reads_every_calendar_and_is_told_it_is_read_only(demo: Demo) -> None:
    answer = demo.send("PROPFIND", "/dav/anne/appointments/", "admin", PROPFIND, Depth="0")
    assert answer.status == 207
    privileges = re.findall(r"<privilege><([a-z-]+) /></privilege>", answer.body)
    assert privileges == ["read"]
    url = f"{demo.base_url}/dav/anne/appointments/"
    with caldav.DAVClient(url=url, username="admin", password=PASSWORDS["admin"]) as client:
        events = client.calendar(url=url).events()
    assert [str(e.icalendar_component["SUMMARY"]) for e in events] == ["anne's"]


TRICKS = [
    "/dav/../etc",
    "/dav/anne/../marc/appointments/",
    "/dav/anne/%2e%2e/marc/appointments/",
    "/dav/anne/..%2fmarc/appointments/",
    "/dav/anne/%2E%2E%2Fmarc%2Fappointments%2F",
    "/dav//marc/appointments/",
    "/dav/anne/./../marc/appointments/m.ics",
    "/dav/%2e%2e/dav/marc/appointments/",
    "/dav/anne/appointments/../../marc/appointments/m.ics",
    "/dav/marc%2fappointments/m.ics",
    "/dav/anne%5c..%5cmarc/appointments/",
    "/dav/Marc/appointments/",
]


def test_path_tricks_never_reach_another_therapists_calendar(demo: Demo) -> None:
    before = demo.stored()
    answers = {}
    for method in ("PROPFIND", "GET", "PUT", "DELETE", "PROPPATCH", "MKCALENDAR", "MOVE"):
        body = {"PUT": EVENT.format(uid="m", summary="overwritten"), "PROPFIND": PROPFIND}
        headers = {"Depth": "0", "Destination": "/dav/anne/appointments/stolen.ics"}
        for path in TRICKS:
            answers[(method, path)] = demo.send(
                method, path, "anne", body.get(method, ""), **headers
            )
    refused = (400, 403, 404)
    assert {case: a.status for case, a in answers.items() if a.status not in refused} == {}
    assert demo.stored() == before


@pytest.mark.parametrize("method", ["PROPFIND", "PUT", "DELETE"])
def test_a_nul_byte_in_a_path_is_refused(demo: Demo, method: str) -> None:
    before = demo.stored()
    body = EVENT.format(uid="m", summary="overwritten") if method == "PUT" else ""
    assert demo.send(method, "/dav/marc%00/appointments/", "anne", body).status in (400, 403, 404)
    assert demo.stored() == before


def test_the_static_folder_is_no_way_into_the_calendars(demo: Demo) -> None:
    assert demo.send("GET", "/static/../dav/marc/appointments/m.ics", "anne").status == 404
    assert demo.send("GET", "/static/..%2fdav/marc/appointments/m.ics", "anne").status == 404


MOVES = [
    ("anne", "/dav/anne/appointments/a.ics", "/dav/marc/appointments/a.ics"),
    ("anne", "/dav/anne/appointments/a.ics", "{base}/dav/anne/../marc/appointments/a.ics"),
    ("anne", "/dav/anne/appointments/a.ics", "/dav/anne/..%2fmarc/appointments/a.ics"),
    ("anne", "/dav/marc/appointments/m.ics", "/dav/anne/appointments/m.ics"),
    ("marc", "/dav/anne/appointments/a.ics", "/dav/marc/appointments/a.ics"),
    ("admin", "/dav/anne/appointments/a.ics", "/dav/marc/appointments/a.ics"),
]


def test_no_move_between_therapists(demo: Demo) -> None:
    before = demo.stored()
    for user, source, destination in MOVES:
        target = destination.format(base=demo.base_url)
        assert demo.send("MOVE", source, user, Destination=target).status == 403, (user, source)
    assert demo.stored() == before


@pytest.mark.parametrize(
    ("path", "resourcetype"),
    [
        ("/dav/anne/appointments/", "<collection/><CR:addressbook/>"),
        ("/dav/anne/", "<collection/><C:calendar/>"),
    ],
)
def test_a_proppatch_cannot_change_what_a_collection_is(
    demo: Demo, path: str, resourcetype: str
) -> None:
    before = demo.stored()
    body = (
        '<?xml version="1.0" encoding="utf-8"?><propertyupdate xmlns="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
        f"<set><prop><resourcetype>{resourcetype}</resourcetype></prop></set></propertyupdate>"
    )
    assert demo.send("PROPPATCH", path, "anne", body).status in (400, 403, 409)
    assert demo.stored() == before

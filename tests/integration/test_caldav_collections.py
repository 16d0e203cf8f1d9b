"""A therapist's own extra calendars: create, import whole, rename, move events, delete.

Every item change leaves one change row with its old and new text and the acting login; a
whole-calendar import is one transaction. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from defusedxml.ElementTree import fromstring

from tests.support.dav import CALENDAR, DavServer, dav_server

PRIVATE = "anne/private"
PRIVATE_URL = "/dav/anne/private/"
MKCALENDAR = """<?xml version="1.0" encoding="UTF-8"?>
<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:set><D:prop>
    <D:displayname>Privé</D:displayname>
    <C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set>
  </D:prop></D:set>
</C:mkcalendar>"""
RENAME = """<?xml version="1.0" encoding="UTF-8"?>
<D:propertyupdate xmlns:D="DAV:">
  <D:set><D:prop><D:displayname>Perso</D:displayname></D:prop></D:set>
</D:propertyupdate>"""
DISPLAYNAME = """<?xml version="1.0" encoding="UTF-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:displayname/></D:prop></D:propfind>"""


def vevent(uid: str, day: str) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T080000Z",
        f"DTSTART;TZID=Europe/Zurich:{day}T120000",
        f"DTEND;TZID=Europe/Zurich:{day}T130000",
        "SUMMARY:Midi",
        "END:VEVENT",
    ]


def whole_calendar(*events: list[str]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Thunderbird export//EN"]
    for lines_of_event in events:
        lines.extend(lines_of_event)
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


@pytest.fixture
def dav(practice_toml: Path, database_url: str) -> Iterator[DavServer]:
    with dav_server(practice_toml, database_url) as server:
        yield server


def send(
    dav: DavServer, method: str, path: str, body: str = "", **headers: str
) -> requests.Response:
    return requests.request(
        method,
        dav.base_url + path,
        data=body.encode(),
        headers=headers,
        auth=dav.auth(),
        timeout=10,
    )


def displayname(dav: DavServer) -> str:
    answer = send(dav, "PROPFIND", PRIVATE_URL, DISPLAYNAME, Depth="0")
    assert answer.status_code == 207
    return fromstring(answer.content).findtext(".//{DAV:}displayname") or ""


@pytest.fixture
def private(dav: DavServer) -> str:
    response = send(dav, "MKCALENDAR", PRIVATE_URL, MKCALENDAR, **{"Content-Type": "text/xml"})
    assert response.status_code == 201, response.text
    return PRIVATE_URL


def test_a_new_calendar_is_listed_with_its_name_and_renamed(dav: DavServer, private: str) -> None:
    assert displayname(dav) == "Privé"
    assert (
        send(dav, "PROPPATCH", private, RENAME, **{"Content-Type": "text/xml"}).status_code == 207
    )
    assert displayname(dav) == "Perso"
    assert dav.changes(PRIVATE) == []  # properties are not calendar items


def test_importing_a_whole_calendar_replaces_its_events(dav: DavServer, private: str) -> None:
    first = whole_calendar(vevent("lunch-1", "20261201"), vevent("lunch-2", "20261202"))
    response = send(dav, "PUT", private, first, **{"Content-Type": "text/calendar"})
    assert response.status_code == 201, response.text
    assert sorted(i.href for i in dav.items(PRIVATE)) == ["lunch-1.ics", "lunch-2.ics"]

    second = whole_calendar(vevent("lunch-2", "20261209"), vevent("lunch-3", "20261203"))
    response = send(dav, "PUT", private, second, **{"Content-Type": "text/calendar"})
    assert response.status_code == 201, response.text
    items = {i.href: i for i in dav.items(PRIVATE)}
    assert sorted(items) == ["lunch-2.ics", "lunch-3.ics"]
    assert "20261209T120000" in items["lunch-2.ics"].text

    log = [(c.op, c.href, c.actor) for c in dav.changes(PRIVATE)]
    assert sorted(log[:2]) == [("put", "lunch-1.ics", "anne"), ("put", "lunch-2.ics", "anne")]
    assert sorted(log[2:]) == [
        ("delete", "lunch-1.ics", "anne"),
        ("put", "lunch-2.ics", "anne"),
        ("put", "lunch-3.ics", "anne"),
    ]
    replaced = next(c for c in dav.changes(PRIVATE)[2:] if c.href == "lunch-2.ics")
    assert replaced.old_text is not None
    assert "20261202T120000" in replaced.old_text


def test_an_invalid_import_changes_nothing(dav: DavServer, private: str) -> None:
    good = whole_calendar(vevent("lunch-1", "20261201"))
    send(dav, "PUT", private, good, **{"Content-Type": "text/calendar"})
    bad_event = [*vevent("bad", "20261202")[:-1], "RRULE:FREQ=MINUTELY", "END:VEVENT"]
    response = send(
        dav,
        "PUT",
        private,
        whole_calendar(vevent("lunch-2", "20261202"), bad_event),
        **{"Content-Type": "text/calendar"},
    )
    assert response.status_code == 400
    assert "FREQ=MINUTELY is not accepted" in response.text
    assert [i.href for i in dav.items(PRIVATE)] == ["lunch-1.ics"]
    assert [c.href for c in dav.changes(PRIVATE)] == ["lunch-1.ics"]


def test_moving_an_event_between_calendars(dav: DavServer, private: str) -> None:
    send(
        dav,
        "PUT",
        private,
        whole_calendar(vevent("lunch", "20261201")),
        **{"Content-Type": "text/calendar"},
    )
    (before,) = dav.items(PRIVATE)
    response = send(
        dav,
        "MOVE",
        private + "lunch.ics",
        Destination=f"{dav.base_url}/dav/anne/appointments/lunch.ics",
    )
    assert response.status_code == 201, response.text
    assert dav.items(PRIVATE) == []
    (moved,) = dav.items()
    assert (moved.uid, moved.text) == ("lunch", before.text)
    assert [(c.op, c.actor) for c in dav.changes(PRIVATE)][-1] == ("delete", "anne")
    assert [(c.op, c.old_text, c.new_text) for c in dav.changes(CALENDAR)] == [
        ("put", None, before.text)
    ]


def test_deleting_a_calendar_logs_each_event(dav: DavServer, private: str) -> None:
    send(
        dav,
        "PUT",
        private,
        whole_calendar(vevent("lunch", "20261201")),
        **{"Content-Type": "text/calendar"},
    )
    assert send(dav, "DELETE", private).status_code == 200
    assert send(dav, "PROPFIND", private, DISPLAYNAME, Depth="0").status_code == 404
    assert [(c.op, c.href) for c in dav.changes(PRIVATE)] == [
        ("put", "lunch.ics"),
        ("delete", "lunch.ics"),
    ]

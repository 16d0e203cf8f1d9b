"""What the server refuses to store, and how it tells the calendar app, on both databases.

Every refused PUT gets a 4xx with a short reason, leaves no item and no change row behind,
and the server (its write lock included) keeps answering.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.support.dav import DavServer, RawRequest, dav_server

CALENDAR_URL = "/dav/anne/appointments/"


def calendar(*component: str, name: str = "VEVENT") -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Apple Inc.//macOS 15.0//EN",
        f"BEGIN:{name}",
        "UID:refused",
        "DTSTAMP:20261101T080000Z",
        *component,
        f"END:{name}",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines)


START = "DTSTART;TZID=Europe/Zurich:20261202T140000"
END = "DTEND;TZID=Europe/Zurich:20261202T150000"
CASES = {
    "malformed": (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nthis line is no property\r\n",
        400,
        "not parseable as iCalendar",
    ),
    "no DTSTART": (calendar("SUMMARY:Séance", END.replace("DTEND", "DUE")), 400, "without DTSTART"),
    "unknown TZID": (
        calendar("DTSTART;TZID=Mars/Olympus_Mons:20261202T140000", "DURATION:PT1H"),
        400,
        "unknown time zone: TZID=Mars/Olympus_Mons",
    ),
    "huge COUNT": (
        calendar(START, END, "RRULE:FREQ=DAILY;COUNT=1000000000"),
        400,
        "COUNT=1000000000 is above the limit",
    ),
    "above the size limit": (
        calendar(START, END, "DESCRIPTION:" + "x" * 1_100_000),
        413,
        "too large",
    ),
    "a task in an events calendar": (
        calendar("DUE:20261202T150000Z", "SUMMARY:Rappel", name="VTODO"),
        403,
        "accepts only VEVENT",
    ),
}


@pytest.fixture
def dav(practice_toml: Path, database_url: str) -> Iterator[DavServer]:
    with dav_server(practice_toml, database_url) as server:
        yield server


def put(dav: DavServer, href: str, text: str) -> requests.Response:
    request = RawRequest.load("apple_put_event.http", href=CALENDAR_URL + href, text=text)
    return request.send(dav)


@pytest.mark.parametrize("case", list(CASES))
def test_a_refused_object_is_explained_and_leaves_nothing(dav: DavServer, case: str) -> None:
    text, status, reason = CASES[case]
    response = put(dav, "refused.ics", text)
    assert response.status_code == status
    assert reason in response.text
    assert len(response.text) < 200
    assert dav.items() == []
    assert dav.changes() == []

    good = calendar(START, END).replace("UID:refused", "UID:good")
    assert put(dav, "good.ics", good).status_code == 201  # the write lock was released
    assert [item.href for item in dav.items()] == ["good.ics"]
    assert [c.href for c in dav.changes()] == ["good.ics"]


def test_a_refused_change_keeps_the_event_as_it_was(dav: DavServer) -> None:
    first = calendar(START, END)
    created = put(dav, "kept.ics", first)
    assert created.status_code == 201
    (before,) = dav.items()
    broken = calendar(START, END, "RRULE:FREQ=MINUTELY")
    response = put(dav, "kept.ics", broken)  # Apple's template sends If-None-Match: *
    assert response.status_code == 412
    response = requests.put(
        dav.base_url + CALENDAR_URL + "kept.ics",
        data=broken.encode(),
        headers={"Content-Type": "text/calendar", "If-Match": created.headers["ETag"]},
        auth=dav.auth(),
        timeout=10,
    )
    assert response.status_code == 400
    assert "FREQ=MINUTELY" in response.text
    assert dav.items() == [before]
    assert len(dav.changes()) == 1


def proppatch(dav: DavServer, path: str, prop: str) -> requests.Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><propertyupdate xmlns="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav" xmlns:CR="urn:ietf:params:xml:ns:carddav">'
        f"<set><prop>{prop}</prop></set></propertyupdate>"
    )
    return requests.request(
        "PROPPATCH", dav.base_url + path, data=body.encode(), auth=dav.auth(), timeout=10
    )


@pytest.mark.parametrize(
    ("path", "prop", "kept"),
    [
        (CALENDAR_URL, "<resourcetype><collection/><CR:addressbook/></resourcetype>", "VCALENDAR"),
        (CALENDAR_URL, "<resourcetype><collection/></resourcetype>", "VCALENDAR"),
        ("/dav/anne/", "<resourcetype><collection/><C:calendar/></resourcetype>", ""),
    ],
)
def test_a_proppatch_never_changes_what_a_collection_is(
    dav: DavServer, path: str, prop: str, kept: str
) -> None:
    """RFC 4918 makes resourcetype protected: 403 with the reason, and nothing changes (a
    ValueError inside Radicale's write lock would otherwise commit what was written)."""
    with dav.store.read() as tx:
        before = tx.collection(path.strip("/").removeprefix("dav/"))
    response = proppatch(dav, path, prop + "<displayname>Renamed</displayname>")
    assert response.status_code == 403
    assert "a collection keeps its type" in response.text
    with dav.store.read() as tx:
        after = tx.collection(path.strip("/").removeprefix("dav/"))
    assert after == before
    assert after is not None
    assert after.tag == kept


def test_a_proppatch_of_other_properties_still_applies(dav: DavServer) -> None:
    response = proppatch(dav, CALENDAR_URL, "<displayname>Séances</displayname>")
    assert response.status_code == 207
    with dav.store.read() as tx:
        calendar = tx.collection("anne/appointments")
    assert calendar is not None
    assert (calendar.tag, calendar.props["D:displayname"]) == ("VCALENDAR", "Séances")

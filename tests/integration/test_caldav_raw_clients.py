"""Requests shaped like Apple Calendar, Thunderbird and DAVx5, sent as they send them.

Each request is a file in ``tests/data/requests`` (method, path, headers, body); the answers
are read as the client reads them, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest
import requests
from defusedxml.ElementTree import fromstring

from tests.support.dav import CALENDAR, DavServer, RawRequest, dav_server

NS = {
    "D": "DAV:",
    "C": "urn:ietf:params:xml:ns:caldav",
    "CS": "http://calendarserver.org/ns/",
    "ICAL": "http://apple.com/ns/ical/",
}
PRINCIPAL = "/dav/anne/"
CALENDAR_URL = "/dav/anne/appointments/"


@pytest.fixture
def dav(practice_toml: Path, database_url: str) -> Iterator[DavServer]:
    with dav_server(practice_toml, database_url) as server:
        yield server


def event(uid: str, start: str, end: str, *extra: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Apple Inc.//iPhone OS 18.0//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261101T080000Z",
            f"DTSTART;TZID=Europe/Zurich:{start}",
            f"DTEND;TZID=Europe/Zurich:{end}",
            "SUMMARY:Séance",
            *extra,
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )


def put(dav: DavServer, href: str, text: str) -> requests.Response:
    response = RawRequest.load("apple_put_event.http", href=CALENDAR_URL + href, text=text).send(
        dav
    )
    assert response.status_code == 201, response.text
    return response


def delete(dav: DavServer, href: str) -> None:
    response = requests.delete(dav.base_url + CALENDAR_URL + href, auth=dav.auth(), timeout=10)
    assert response.status_code == 200, response.text


class Multistatus:
    """A 207 answer, read by href as a client reads it."""

    def __init__(self, response: requests.Response) -> None:
        assert response.status_code == 207, response.text
        root = fromstring(response.content)
        self.responses = {
            r.findtext("D:href", namespaces=NS): r for r in root.iterfind("D:response", NS)
        }
        self.sync_token = root.findtext("D:sync-token", namespaces=NS)

    def hrefs(self) -> list[str]:
        return sorted(h for h in self.responses if h)

    def prop(self, href: str, name: str) -> ET.Element:
        """The property ``name`` ("D:getetag") found (200) for ``href``."""
        for propstat in self.responses[href].iterfind("D:propstat", NS):
            if " 200 " in (propstat.findtext("D:status", namespaces=NS) or ""):
                found = propstat.find(f"D:prop/{name}", NS)
                if found is not None:
                    return found
        raise AssertionError(f"{name} not found for {href}")

    def text(self, href: str, name: str) -> str:
        return self.prop(href, name).text or ""

    def hrefs_in(self, href: str, name: str) -> list[str]:
        return [h.text or "" for h in self.prop(href, name).iterfind("D:href", NS)]

    def status(self, href: str) -> str:
        return self.responses[href].findtext("D:status", namespaces=NS) or ""


# -- Apple Calendar (macOS, iOS) ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["apple_propfind_well_known.http", "apple_propfind_root.http"])
def test_apple_finds_the_principal_from_the_server_address(dav: DavServer, name: str) -> None:
    first = RawRequest.load(name)
    redirect = first.send(dav)
    assert redirect.status_code == 301
    assert redirect.headers["Location"] == "/dav/"
    answer = Multistatus(
        RawRequest(first.method, redirect.headers["Location"], first.headers, first.body).send(dav)
    )
    assert answer.hrefs_in("/dav/", "D:current-user-principal") == [PRINCIPAL]


def test_apple_reads_the_principal_and_the_calendar_home(dav: DavServer) -> None:
    principal = Multistatus(
        RawRequest.load("apple_propfind_principal.http", principal=PRINCIPAL).send(dav)
    )
    assert principal.hrefs_in(PRINCIPAL, "C:calendar-home-set") == [PRINCIPAL]
    assert principal.hrefs_in(PRINCIPAL, "C:calendar-user-address-set") == [
        "mailto:anne@cabinet-du-lac.example",
        PRINCIPAL,
    ]
    assert principal.hrefs_in(PRINCIPAL, "D:principal-URL") == [PRINCIPAL]

    home = Multistatus(RawRequest.load("apple_propfind_home.http", home=PRINCIPAL).send(dav))
    assert home.hrefs() == [PRINCIPAL, CALENDAR_URL]
    assert home.text(CALENDAR_URL, "D:displayname") == "Rendez-vous"
    assert home.text(CALENDAR_URL, "ICAL:calendar-color") == "#2A7AB0"
    assert home.text(CALENDAR_URL, "CS:getctag")
    assert home.text(CALENDAR_URL, "D:sync-token")
    components = home.prop(CALENDAR_URL, "C:supported-calendar-component-set")
    assert [c.get("name") for c in components] == ["VEVENT"]
    assert home.prop(CALENDAR_URL, "D:resourcetype").find("C:calendar", NS) is not None
    privileges = home.prop(CALENDAR_URL, "D:current-user-privilege-set")
    assert privileges.find("D:privilege/D:write-content", NS) is not None


def test_apple_notices_changes_by_ctag_and_fetches_them_by_sync_token(dav: DavServer) -> None:
    def ctag() -> str:
        answer = Multistatus(
            RawRequest.load("apple_propfind_getctag.http", calendar=CALENDAR_URL).send(dav)
        )
        return answer.text(CALENDAR_URL, "CS:getctag")

    def sync(token: str) -> Multistatus:
        return Multistatus(
            RawRequest.load(
                "apple_sync_collection.http", calendar=CALENDAR_URL, sync_token=token
            ).send(dav)
        )

    empty = ctag()
    assert ctag() == empty  # nothing changed, nothing to fetch
    first = put(dav, "first.ics", event("first", "20261202T140000", "20261202T150000"))
    assert ctag() != empty

    initial = sync("")
    assert initial.hrefs() == [CALENDAR_URL + "first.ics"]
    assert initial.text(CALENDAR_URL + "first.ics", "D:getetag") == first.headers["ETag"]
    assert initial.sync_token

    second = put(dav, "second.ics", event("second", "20261203T140000", "20261203T150000"))
    delete(dav, "first.ics")
    changes = sync(initial.sync_token)
    assert changes.hrefs() == [CALENDAR_URL + "first.ics", CALENDAR_URL + "second.ics"]
    assert "404" in changes.status(CALENDAR_URL + "first.ics")
    assert changes.text(CALENDAR_URL + "second.ics", "D:getetag") == second.headers["ETag"]
    assert changes.sync_token != initial.sync_token
    assert sync(changes.sync_token or "").hrefs() == []


# -- Thunderbird -------------------------------------------------------------------------------


def test_thunderbird_lists_the_events_and_fetches_them_together(dav: DavServer) -> None:
    put(dav, "a.ics", event("a", "20261202T140000", "20261202T150000"))
    put(dav, "b.ics", event("b", "20261203T140000", "20261203T150000"))
    stored = {item.href: item for item in dav.items()}

    calendar = Multistatus(
        RawRequest.load("thunderbird_propfind_calendar.http", calendar=CALENDAR_URL).send(dav)
    )
    assert calendar.hrefs_in(CALENDAR_URL, "D:owner") == [PRINCIPAL]
    assert calendar.hrefs_in(CALENDAR_URL, "D:current-user-principal") == [PRINCIPAL]

    listing = Multistatus(
        RawRequest.load("thunderbird_propfind_items.http", calendar=CALENDAR_URL).send(dav)
    )
    assert listing.hrefs() == [CALENDAR_URL, CALENDAR_URL + "a.ics", CALENDAR_URL + "b.ics"]
    for href, item in stored.items():
        assert listing.text(CALENDAR_URL + href, "D:getetag") == item.etag

    wanted = [CALENDAR_URL + h for h in ("a.ics", "b.ics", "missing.ics")]
    hrefs = "\n".join(f"  <D:href>{h}</D:href>" for h in wanted)
    fetched = Multistatus(
        RawRequest.load(
            "thunderbird_calendar_multiget.http", calendar=CALENDAR_URL, hrefs=hrefs
        ).send(dav)
    )
    for href, item in stored.items():
        # XML reads line ends as LF.
        assert fetched.text(CALENDAR_URL + href, "C:calendar-data") == item.text.replace(
            "\r\n", "\n"
        )
        assert fetched.text(CALENDAR_URL + href, "D:getetag") == item.etag
    assert "404" in fetched.status(CALENDAR_URL + "missing.ics")


def test_thunderbird_time_range_query_is_exact(dav: DavServer) -> None:
    put(dav, "morning.ics", event("morning", "20261203T080000", "20261203T090000"))
    put(dav, "afternoon.ics", event("afternoon", "20261203T140000", "20261203T150000"))
    all_day = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN",
            "BEGIN:VEVENT",
            "UID:holiday",
            "DTSTAMP:20261101T080000Z",
            "DTSTART;VALUE=DATE:20261204",
            "DTEND;VALUE=DATE:20261205",
            "SUMMARY:Congé",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    put(dav, "holiday.ics", all_day)

    def query(start: str, end: str) -> list[str]:
        request = RawRequest.load(
            "thunderbird_calendar_query.http", calendar=CALENDAR_URL, start=start, end=end
        )
        return [h.removeprefix(CALENDAR_URL) for h in Multistatus(request.send(dav)).hrefs()]

    # 08:00-09:00 in Zurich is 07:00-08:00 UTC.
    assert query("20261203T070000Z", "20261203T080000Z") == ["morning.ics"]
    assert query("20261203T080000Z", "20261203T130000Z") == []
    assert query("20261203T065959Z", "20261203T140001Z") == ["afternoon.ics", "morning.ics"]
    # A date without a zone: Radicale reads it in UTC, to the last second of the day.
    assert query("20261204T233000Z", "20261205T000000Z") == ["holiday.ics"]
    assert query("20261205T000000Z", "20261205T010000Z") == []


# -- DAVx5 -------------------------------------------------------------------------------------


def test_davx5_finds_a_writable_calendar(dav: DavServer) -> None:
    principal = Multistatus(
        RawRequest.load("davx5_propfind_principal.http", principal=PRINCIPAL).send(dav)
    )
    assert principal.hrefs_in(PRINCIPAL, "C:calendar-home-set") == [PRINCIPAL]
    home = Multistatus(RawRequest.load("davx5_propfind_home.http", home=PRINCIPAL).send(dav))
    privileges = home.prop(CALENDAR_URL, "D:current-user-privilege-set")
    granted = {p[0].tag.split("}")[1] for p in privileges.iterfind("D:privilege", NS)}
    assert {"read", "write", "write-content"} <= granted
    assert home.text(CALENDAR_URL, "D:displayname") == "Rendez-vous"


def test_davx5_syncs_incrementally_from_its_token(dav: DavServer) -> None:
    def sync(token: str) -> Multistatus:
        return Multistatus(
            RawRequest.load(
                "davx5_sync_collection.http", calendar=CALENDAR_URL, sync_token=token
            ).send(dav)
        )

    put(dav, "a.ics", event("a", "20261202T140000", "20261202T150000"))
    initial = sync("")
    assert initial.hrefs() == [CALENDAR_URL + "a.ics"]
    put(dav, "b.ics", event("b", "20261202T160000", "20261202T170000"))
    assert sync(initial.sync_token or "").hrefs() == [CALENDAR_URL + "b.ics"]


@pytest.mark.parametrize(
    "token",
    [
        "http://radicale.org/ns/sync/" + "0" * 64,  # another server's token
        "urn:x-caldav-bridge:sync:999999:0",  # another (or a deleted) collection
        "urn:x-caldav-bridge:sync:{id}:999999",  # beyond the last change
    ],
)
def test_an_unknown_sync_token_asks_davx5_for_a_full_sync(dav: DavServer, token: str) -> None:
    put(dav, "a.ics", event("a", "20261202T140000", "20261202T150000"))
    with dav.store.read() as tx:
        found = tx.collection(CALENDAR)
    assert found is not None
    request = RawRequest.load(
        "davx5_sync_collection.http", calendar=CALENDAR_URL, sync_token=token.format(id=found.id)
    )
    response = request.send(dav)
    assert response.status_code == 403
    assert fromstring(response.content).find("D:valid-sync-token", NS) is not None


def test_an_event_sent_without_its_time_zone_is_served_with_the_right_one(
    dav: DavServer,
) -> None:
    """Radicale adds the VTIMEZONE a client left out; its DST changes must be Zurich's."""
    put(dav, "a.ics", event("a", "20261025T023000", "20261025T033000"))
    served = requests.get(dav.base_url + CALENDAR_URL + "a.ics", auth=dav.auth(), timeout=10)
    calendar = icalendar.Calendar.from_ical(served.text)
    (zone,) = calendar.walk("VTIMEZONE")
    zurich = zone.to_tz(lookup_tzid=False)
    for moment in ("2026-03-29 01:59", "2026-03-29 03:00", "2026-10-25 02:59", "2026-10-25 03:00"):
        local = datetime.fromisoformat(moment)
        expected = local.replace(tzinfo=ZoneInfo("Europe/Zurich")).utcoffset()
        assert local.replace(tzinfo=zurich).utcoffset() == expected, moment

"""A therapist's calendar through the real `caldav` client, on SQLite and on PostgreSQL.

The server is the one WSGI application of `caldav-bridge serve` (`tests.support.dav`); one
test runs the real console script. What each request left in the database (items, change
rows with old and new text and the acting login) is checked through the store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import caldav
import pytest
import pytz
import requests
import vobject
from caldav.elements import ical

from tests.support.dav import CALENDAR, DavServer, dav_server
from tests.support.serve import run_cli, serving

ZURICH = ZoneInfo("Europe/Zurich")
APPLE_ZURICH = """BEGIN:VTIMEZONE
TZID:Europe/Zurich
BEGIN:DAYLIGHT
DTSTART:19810329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZNAME:CEST
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
BEGIN:STANDARD
DTSTART:19961027T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZNAME:CET
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
END:VTIMEZONE"""


def apple_event(uid: str, start: str, end: str, *extra: str, overrides: str = "") -> str:
    """A VEVENT as Apple Calendar sends it: local Zurich times and the VTIMEZONE.

    ``extra`` lines are added, replacing the default SEQUENCE or TRANSP.
    """
    replaced = {line.split(":", 1)[0] for line in extra}
    event = [
        "CREATED:20261101T081500Z",
        f"DTEND;TZID=Europe/Zurich:{end}",
        "DTSTAMP:20261101T081500Z",
        f"DTSTART;TZID=Europe/Zurich:{start}",
        "SEQUENCE:0",
        "SUMMARY:Séance M. Z.",
        "TRANSP:OPAQUE",
        f"UID:{uid}",
    ]
    lines = [
        "BEGIN:VCALENDAR",
        "CALSCALE:GREGORIAN",
        "PRODID:-//Apple Inc.//macOS 15.0//EN",
        "VERSION:2.0",
        APPLE_ZURICH,
        "BEGIN:VEVENT",
        *(line for line in event if line.split(":", 1)[0] not in replaced),
        *extra,
        "END:VEVENT",
        *([overrides] if overrides else []),
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def zurich(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZURICH)  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def dav(practice_toml: Path, database_url: str) -> Iterator[DavServer]:
    with dav_server(practice_toml, database_url) as server:
        yield server


def client_for(dav: DavServer, login: str = "anne") -> caldav.DAVClient:
    return caldav.DAVClient(url=dav.base_url + "/", username=login, password=dav.passwords[login])


@pytest.fixture
def calendar(dav: DavServer) -> Iterator[caldav.Calendar]:
    with client_for(dav) as client:
        (found,) = client.principal().calendars()
        yield found


def uids(events: list[caldav.CalendarObjectResource]) -> list[str]:
    return sorted(str(e.icalendar_component["UID"]) for e in events)


def starts(events: list[caldav.CalendarObjectResource]) -> list[datetime]:
    return sorted(e.icalendar_component.start.astimezone(UTC) for e in events)


# -- discovery ---------------------------------------------------------------------------------


def test_discovery_from_the_root_finds_the_appointments_calendar(dav: DavServer) -> None:
    with client_for(dav) as client:
        principal = client.principal()
        (calendar,) = principal.calendars()
        assert str(principal.url) == f"{dav.base_url}/dav/anne/"
        assert str(principal.calendar_home_set.url) == f"{dav.base_url}/dav/anne/"
        assert principal.calendar_user_address_set() == [
            "mailto:anne@cabinet-du-lac.example",
            "/dav/anne/",
        ]
        assert str(calendar.url) == f"{dav.base_url}/dav/anne/appointments/"
        assert calendar.get_display_name() == "Rendez-vous"
        assert calendar.get_property(ical.CalendarColor()) == "#2A7AB0"
        assert calendar.get_supported_components() == ["VEVENT"]


def test_the_real_server_serves_each_therapist_their_calendar(
    practice_toml: Path, database_url: str
) -> None:
    env = {"CALDAV_BRIDGE_DATABASE_URL": database_url}
    init = run_cli("--config", str(practice_toml), "init", "--demo", env=env)
    assert init.returncode == 0, init.stderr
    password = next(
        line.split(" / ")[1]
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: marc")
    )
    with (
        serving(practice_toml, env, extra=["--no-watcher"]) as base_url,
        caldav.DAVClient(url=base_url + "/", username="marc", password=password) as client,
    ):
        (calendar,) = client.principal().calendars()
        assert str(calendar.url) == f"{base_url}/dav/marc/appointments/"
        assert calendar.get_display_name() == "Rendez-vous"
        assert calendar.get_property(ical.CalendarColor()) == "#3C9A5F"


# -- events ------------------------------------------------------------------------------------


def test_an_apple_event_is_created_moved_and_deleted(
    dav: DavServer, calendar: caldav.Calendar
) -> None:
    day = (zurich(2026, 12, 2, 0, 0), zurich(2026, 12, 3, 0, 0))
    created = calendar.save_event(apple_event("seance-1", "20261202T140000", "20261202T151500"))
    (found,) = calendar.search(start=day[0], end=day[1], event=True, post_filter=False)
    assert found.icalendar_component.start == zurich(2026, 12, 2, 14, 0)
    (item,) = dav.items()
    assert requests.get(str(created.url), auth=dav.auth(), timeout=10).text == item.text
    assert item.etag == found.get_property(caldav.elements.dav.GetEtag())

    moved = apple_event("seance-1", "20261202T151500", "20261202T163000", "SEQUENCE:1")
    found.data = moved
    found.save()
    (again,) = calendar.search(start=day[0], end=day[1], event=True, post_filter=False)
    assert again.icalendar_component.start == zurich(2026, 12, 2, 15, 15)
    again.delete()
    assert calendar.search(start=day[0], end=day[1], event=True, post_filter=False) == []

    put, move, delete = dav.changes()
    assert dav.items() == []
    assert (put.op, put.actor, put.old_text) == ("put", "anne", None)
    assert (move.op, move.actor, move.old_text) == ("put", "anne", put.new_text)
    assert move.new_text is not None
    assert "DTSTART;TZID=Europe/Zurich:20261202T151500" in move.new_text
    assert (delete.op, delete.actor) == ("delete", "anne")
    assert (delete.old_text, delete.new_text) == (move.new_text, None)


WEEKLY_SUPERVISION = apple_event(
    "supervision",
    "20260305T100000",
    "20260305T105000",
    "RRULE:FREQ=WEEKLY;BYDAY=TH",
    "EXDATE;TZID=Europe/Zurich:20260319T100000",
    overrides="\r\n".join(
        [
            "BEGIN:VEVENT",
            "DTEND;TZID=Europe/Zurich:20260403T145000",
            "DTSTAMP:20260212T173344Z",
            "DTSTART;TZID=Europe/Zurich:20260403T140000",
            "RECURRENCE-ID;TZID=Europe/Zurich:20260402T100000",
            "SEQUENCE:2",
            "SUMMARY:Supervision (moved)",
            "UID:supervision",
            "END:VEVENT",
        ]
    ),
)


def test_a_recurring_event_with_an_exdate_and_a_moved_occurrence(
    calendar: caldav.Calendar,
) -> None:
    calendar.save_event(WEEKLY_SUPERVISION)

    def search(start: datetime, end: datetime) -> list[caldav.CalendarObjectResource]:
        return calendar.search(start=start, end=end, event=True, post_filter=False)

    assert search(zurich(2026, 3, 16, 0, 0), zurich(2026, 3, 23, 0, 0)) == []  # the EXDATE
    assert uids(search(zurich(2026, 4, 2, 9, 0), zurich(2026, 4, 2, 12, 0))) == []  # moved away
    assert uids(search(zurich(2026, 4, 3, 14, 30), zurich(2026, 4, 3, 15, 0))) == ["supervision"]

    expanded = calendar.search(
        start=zurich(2026, 3, 16, 0, 0),
        end=zurich(2026, 4, 6, 0, 0),
        event=True,
        expand=True,
        server_expand=True,
    )
    assert starts(expanded) == [
        zurich(2026, 3, 26, 10, 0).astimezone(UTC),
        zurich(2026, 4, 3, 14, 0).astimezone(UTC),
    ]


def test_a_weekly_event_keeps_its_local_time_across_the_autumn_dst_change(
    calendar: caldav.Calendar,
) -> None:
    calendar.save_event(
        apple_event("sunday", "20261011T090000", "20261011T100000", "RRULE:FREQ=WEEKLY")
    )

    def search(start: datetime, end: datetime) -> list[str]:
        return uids(calendar.search(start=start, end=end, event=True, post_filter=False))

    # 25 October 2026, 09:00 in Zurich is 08:00 UTC (CET), no longer 07:00 (CEST).
    assert search(utc(2026, 10, 25, 7, 0), utc(2026, 10, 25, 8, 0)) == []
    assert search(utc(2026, 10, 25, 8, 30), utc(2026, 10, 25, 8, 45)) == ["sunday"]
    expanded = calendar.search(
        start=zurich(2026, 10, 17, 0, 0),
        end=zurich(2026, 11, 2, 0, 0),
        event=True,
        expand=True,
        server_expand=True,
    )
    assert starts(expanded) == [
        utc(2026, 10, 18, 7, 0),
        utc(2026, 10, 25, 8, 0),
        utc(2026, 11, 1, 8, 0),
    ]


def test_a_recurring_event_never_depends_on_what_the_server_read_before(
    practice_toml: Path, database_url: str
) -> None:
    """vobject maps a TZID to one zone per process, filled by what it reads first; a pytz
    zone there (from an object without VTIMEZONE) moved occurrences after a DST change."""
    vobject.icalendar.registerTzid("Europe/Zurich", pytz.timezone("Europe/Zurich"))
    with dav_server(practice_toml, database_url) as dav, client_for(dav) as client:
        (calendar,) = client.principal().calendars()
        calendar.save_event(
            apple_event("sunday", "20261011T090000", "20261011T100000", "RRULE:FREQ=WEEKLY")
        )
        found = calendar.search(
            start=utc(2026, 10, 25, 7, 0),
            end=utc(2026, 10, 25, 8, 0),
            event=True,
            post_filter=False,
        )
        assert found == []
        busy = calendar.freebusy_request(utc(2026, 10, 25, 0, 0), utc(2026, 10, 26, 0, 0))
        assert "20261025T080000Z/20261025T090000Z" in busy.data


# -- synchronisation, free-busy, concurrency ---------------------------------------------------


def test_sync_tokens_report_new_changed_and_deleted_events(
    dav: DavServer, calendar: caldav.Calendar
) -> None:
    kept = calendar.save_event(apple_event("kept", "20261207T080000", "20261207T090000"))
    gone = calendar.save_event(apple_event("gone", "20261208T080000", "20261208T090000"))
    synced = calendar.objects_by_sync_token(load_objects=True)
    assert uids(list(synced)) == ["gone", "kept"]
    first_token = synced.sync_token
    assert not str(first_token).startswith("fake-")  # the server's token, no client fallback

    new = calendar.save_event(apple_event("new", "20261209T080000", "20261209T090000"))
    gone.delete()
    updated, deleted = synced.sync()
    assert [str(o.url) for o in updated] == [str(new.url)]
    assert [str(o.url) for o in deleted] == [str(gone.url)]
    assert synced.sync_token != first_token
    assert uids(list(synced)) == ["kept", "new"]

    updated, deleted = synced.sync()  # nothing changed since
    assert (list(updated), list(deleted)) == ([], [])
    assert str(kept.url) in {str(o.url) for o in synced}


def test_free_busy_shows_every_occurrence_but_not_transparent_events(
    calendar: caldav.Calendar,
) -> None:
    calendar.save_event(apple_event("busy", "20261202T140000", "20261202T151500"))
    calendar.save_event(
        apple_event("free", "20261202T080000", "20261202T090000", "TRANSP:TRANSPARENT")
    )
    calendar.save_event(
        apple_event("daily", "20261201T120000", "20261201T123000", "RRULE:FREQ=DAILY;COUNT=3")
    )
    answer = calendar.freebusy_request(zurich(2026, 12, 2, 0, 0), zurich(2026, 12, 3, 0, 0))
    periods = sorted(
        (start.astimezone(UTC), end.astimezone(UTC))
        for prop in answer.icalendar_component.get("FREEBUSY", [])
        for start, end in ([p.dt for p in prop.dts] if hasattr(prop, "dts") else [prop.dt])
    )
    assert periods == [
        (utc(2026, 12, 2, 11, 0), utc(2026, 12, 2, 11, 30)),
        (utc(2026, 12, 2, 13, 0), utc(2026, 12, 2, 14, 15)),
    ]


def test_concurrent_puts_are_all_stored_with_one_change_row_each(dav: DavServer) -> None:
    writers, each = 8, 4
    errors: list[BaseException] = []

    def write(writer: int) -> None:
        try:
            with client_for(dav) as client:
                (calendar,) = client.principal().calendars()
                for n in range(each):
                    uid = f"w{writer}-{n}"
                    calendar.save_event(apple_event(uid, "20261210T080000", "20261210T090000"))
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected = sorted(f"w{w}-{n}" for w in range(writers) for n in range(each))
    assert sorted(item.uid for item in dav.items()) == expected
    changes = dav.changes()
    assert sorted(c.uid or "" for c in changes) == expected
    assert {(c.op, c.actor, c.old_text) for c in changes} == {("put", "anne", None)}
    with client_for(dav) as client:
        (calendar,) = client.principal().calendars()
        day = calendar.search(
            start=zurich(2026, 12, 10, 0, 0), end=zurich(2026, 12, 11, 0, 0), event=True
        )
    assert uids(day) == expected


def test_a_therapist_never_sees_another_therapists_calendar(dav: DavServer) -> None:
    with client_for(dav, "marc") as client:
        (calendar,) = client.principal().calendars()
        calendar.save_event(apple_event("marc-1", "20261202T140000", "20261202T150000"))
    with client_for(dav) as client:
        (calendar,) = client.principal().calendars()
        assert calendar.search(event=True) == []
    assert [c.actor for c in dav.changes("marc/appointments")] == ["marc"]
    assert dav.changes(CALENDAR) == []

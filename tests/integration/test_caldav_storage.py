"""The storage plugin against Radicale's storage contract (DESIGN.md §7), on both databases.

Radicale calls the plugin in a fixed pattern: it discovers lazily and stops early, reads
collection properties and items after releasing its lock, and answers a ValueError raised
inside its write lock by leaving the lock normally. These tests make those calls directly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from radicale.app.report import test_filter as radicale_test_filter
from radicale.item import Item as RadicaleItem

from caldav_bridge.busy import event_occurrences
from caldav_bridge.config_loader import load_config
from caldav_bridge.ical import load_calendar
from caldav_bridge.provisioning import provision_calendars
from caldav_bridge.store import Store
from radicale_plugin.application import make_application
from radicale_plugin.storage import Storage
from radicale_plugin.storage_collection import Collection
from radicale_plugin.storage_items import checked_object
from tests.support.calendars import CALENDARS, calendar_file

ZURICH = ZoneInfo("Europe/Zurich")
CALENDAR = "anne/appointments"
CALDAV = "urn:ietf:params:xml:ns:caldav"


def event(uid: str, start: datetime, *extra: str) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//caldav-bridge tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T080000Z",
        f"DTSTART;TZID=Europe/Zurich:{start:%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Europe/Zurich:{start + timedelta(hours=1):%Y%m%dT%H%M%S}",
        *extra,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines)


@pytest.fixture
def storage(store: Store, practice_toml: Path, tmp_path: Path) -> Storage:
    provision_calendars(store, load_config(practice_toml))
    app = make_application(
        store, tmp_path, 10 * 2**20, 2**20, timezone=lambda: ZURICH, secret_key="test-secret"
    )
    plugin = app._storage
    assert isinstance(plugin, Storage)
    return plugin


@pytest.fixture
def statements(store: Store) -> Iterator[list[str]]:
    """The SQL the store runs from now on."""
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        seen.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(store.engine, "before_cursor_execute", record)


def calendar_of(storage: Storage) -> Collection:
    with storage.acquire_lock("r", "anne"):
        found = next(iter(storage.discover(f"/{CALENDAR}/")))
    assert isinstance(found, Collection)
    return found


def upload(storage: Storage, href: str, text: str) -> None:
    with storage.acquire_lock("w", "anne", path=f"/{CALENDAR}/{href}", actor="anne"):
        calendar_of(storage).upload(href, RadicaleItem(collection_path=CALENDAR, text=text))


def test_discover_reads_nothing_before_it_is_consumed(
    storage: Storage, statements: list[str]
) -> None:
    upload(storage, "a.ics", event("a", datetime(2026, 12, 2, 14, 0)))
    statements.clear()
    found = iter(storage.discover(f"/{CALENDAR}/", depth="1"))
    assert statements == []
    assert isinstance(next(found), Collection)
    assert not any("FROM items" in s for s in statements)  # Radicale often stops here
    assert [item.href for item in found] == ["a.ics"]
    assert any("FROM items" in s for s in statements)


def test_a_value_error_inside_the_write_lock_leaves_nothing_and_frees_the_lock(
    storage: Storage, store: Store
) -> None:
    with storage.acquire_lock("w", "anne", path=f"/{CALENDAR}/bad.ics", actor="anne"):
        bad = RadicaleItem(
            collection_path=CALENDAR,
            text=event("bad", datetime(2026, 12, 2, 14, 0), "RRULE:FREQ=SECONDLY"),
        )
        with pytest.raises(ValueError, match="FREQ=SECONDLY"):
            calendar_of(storage).upload("bad.ics", bad)
        # Radicale catches the ValueError here and leaves the lock normally.
    upload(storage, "good.ics", event("good", datetime(2026, 12, 2, 14, 0)))
    with store.read() as tx:
        assert [i.href for i in tx.items(CALENDAR)] == ["good.ics"]
        assert [c.href for c in tx.changes_since(CALENDAR, 0)] == ["good.ics"]


def test_collections_and_items_serve_after_the_lock_is_released(storage: Storage) -> None:
    upload(storage, "a.ics", event("a", datetime(2026, 12, 2, 14, 0)))
    with storage.acquire_lock("r", "anne"):
        calendar, item = list(storage.discover(f"/{CALENDAR}/", depth="1"))
    assert isinstance(calendar, Collection)
    assert calendar.get_meta("D:displayname") == "Rendez-vous"
    token, hrefs = calendar.sync()
    assert list(hrefs) == ["a.ics"]
    assert list(calendar.sync(token)[1]) == []
    assert calendar.etag == calendar.etag
    assert isinstance(item, RadicaleItem)
    assert "UID:a" in item.serialize()


def test_a_write_outside_radicales_write_lock_is_refused(storage: Storage, store: Store) -> None:
    item = RadicaleItem(collection_path=CALENDAR, text=event("a", datetime(2026, 12, 2, 14, 0)))
    with pytest.raises(RuntimeError, match="outside Radicale's write lock"):
        calendar_of(storage).upload("a.ics", item)
    with store.read() as tx:
        assert tx.items(CALENDAR) == []


def week_filter(start: str = "", end: str = "") -> ET.Element:
    """The filter of a calendar app's one-week calendar-query (no time range: all events)."""
    root = ET.Element(f"{{{CALDAV}}}filter")
    calendar = ET.SubElement(root, f"{{{CALDAV}}}comp-filter", name="VCALENDAR")
    events = ET.SubElement(calendar, f"{{{CALDAV}}}comp-filter", name="VEVENT")
    if start:
        ET.SubElement(events, f"{{{CALDAV}}}time-range", start=start, end=end)
    return root


def test_a_time_range_loads_candidates_from_the_index_only(storage: Storage, store: Store) -> None:
    first = datetime(2026, 1, 1, 10, 0)
    texts = [event(f"day-{n}", first + timedelta(days=n)) for n in range(365)]
    texts.append(event("weekly", first, "RRULE:FREQ=WEEKLY"))
    texts.append(event("gone", first + timedelta(days=40), "RRULE:FREQ=DAILY;COUNT=3"))
    with store.write("anne") as tx:
        for text in texts:
            checked = checked_object(text, max_bytes=2**20, default_tz=ZURICH)
            tx.put_item(CALENDAR, f"{checked.span.uid}.ics", text, checked.span, "anne")

    found = week_filter("20261130T000000Z", "20261207T000000Z")
    candidates = list(calendar_of(storage).get_filtered([found]))
    assert len(candidates) <= 7 + 2 + 1  # the week, a day of slack on each side, the series
    matching = [
        item.uid for item, _ in candidates if radicale_test_filter("VCALENDAR", item, found)
    ]
    assert sorted(matching) == sorted([*(f"day-{n}" for n in range(333, 340)), "weekly"])

    # Expanding, Radicale gives no time range but keeps only events within the expansion.
    storage.start_request(
        expand=(datetime(2026, 11, 30, tzinfo=UTC), datetime(2026, 12, 7, tzinfo=UTC))
    )
    assert len(list(calendar_of(storage).get_filtered([week_filter()]))) <= 7 + 2 + 1
    storage.start_request()
    assert len(list(calendar_of(storage).get_filtered([week_filter()]))) == len(texts)


def test_verify_finds_an_object_that_no_longer_matches_its_index(
    storage: Storage, store: Store
) -> None:
    upload(storage, "a.ics", event("a", datetime(2026, 12, 2, 14, 0)))
    assert storage.verify()
    other = event("b", datetime(2026, 12, 2, 14, 0))
    with store.write("anne") as tx:
        span = checked_object(other, max_bytes=2**20, default_tz=ZURICH).span
        tx.put_item(CALENDAR, "a.ics", other, replace(span, uid="a"), "test")
    assert not storage.verify()


# -- time ranges answered from cached occurrences (storage_timerange) -------------------------

FLOATING_WEEKLY = (
    event("floating", datetime(2026, 3, 2, 9, 0), "RRULE:FREQ=WEEKLY")
    .replace("DTSTART;TZID=Europe/Zurich:", "DTSTART:")
    .replace("DTEND;TZID=Europe/Zurich:", "DTEND:")
)
SYNTHETIC = {
    # As calendar apps without a VTIMEZONE send them (the benchmark's shape), across DST.
    "weekly-no-vtimezone": event("weekly-dst", datetime(2026, 3, 2, 8, 30), "RRULE:FREQ=WEEKLY"),
    "utc-daily": event("utc-daily", datetime(2026, 3, 20, 0, 0), "RRULE:FREQ=DAILY;COUNT=20")
    .replace("DTSTART;TZID=Europe/Zurich:20260320T000000", "DTSTART:20260319T230000Z")
    .replace("DTEND;TZID=Europe/Zurich:20260320T010000", "DTEND:20260320T000000Z"),
    "zero-length": event("zero", datetime(2026, 3, 31, 10, 0)).replace(
        "DTEND;TZID=Europe/Zurich:20260331T110000", "DTEND;TZID=Europe/Zurich:20260331T100000"
    ),
    "no-end": event("no-end", datetime(2026, 4, 1, 10, 0)).replace(
        "DTEND;TZID=Europe/Zurich:20260401T110000\r\n", ""
    ),
    "duration": event(
        "duration", datetime(2026, 3, 28, 23, 30), "RRULE:FREQ=DAILY;COUNT=3"
    ).replace("DTEND;TZID=Europe/Zurich:20260329T003000", "DURATION:PT3H"),
    "floating-weekly": FLOATING_WEEKLY,
    "exdate-utc": event(
        "exdate-utc",
        datetime(2026, 3, 23, 18, 0),
        "RRULE:FREQ=WEEKLY;COUNT=8",
        "EXDATE:20260330T160000Z",
    ),
}
FILES = sorted(path.name for path in CALENDARS.glob("*.ics"))


def time_range_filter(start: datetime, end: datetime) -> ET.Element:
    return week_filter(
        f"{start.astimezone(UTC):%Y%m%dT%H%M%SZ}", f"{end.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    )


def edge_windows(texts: list[str]) -> list[tuple[datetime, datetime]]:
    """Windows that start or end exactly at an occurrence's edges, and a day grid."""
    first, last = datetime(2026, 2, 23, tzinfo=ZURICH), datetime(2026, 6, 1, tzinfo=ZURICH)
    occurrences = event_occurrences([load_calendar(t) for t in texts], first, last, ZURICH)
    second, hour = timedelta(seconds=1), timedelta(hours=1)
    windows = []
    for occurrence in occurrences:
        start, end = occurrence.interval.start, occurrence.interval.end
        windows += [(start - hour, start), (start, start + second), (end - second, end)]
        windows += [(end, end + hour), (start - second, start)]
    day = first
    while day < last:
        windows.append((day, day + timedelta(days=1)))
        windows.append((day, day + timedelta(days=7)))
        day += timedelta(days=3)
    autumn = datetime(2026, 10, 18, tzinfo=ZURICH)
    windows += [(autumn + timedelta(days=n), autumn + timedelta(days=n + 1)) for n in range(14)]
    return windows


def test_time_ranges_match_exactly_what_radicales_filter_matches(storage: Storage) -> None:
    """Every calendar file of the test data and odd shapes (zero length, floating, DURATION
    over DST, UTC EXDATEs): the storage's answer, where it gives one, and Radicale's filter
    for the rest, equal Radicale's filter on every item, for windows on every edge."""
    texts = [calendar_file(name) for name in FILES] + list(SYNTHETIC.values())
    for n, text in enumerate(texts):
        upload(storage, f"{n}.ics", text)
    reference = [RadicaleItem(collection_path=CALENDAR, text=text) for text in texts]
    answered = 0
    for start, end in edge_windows(texts):
        found = time_range_filter(start, end)
        expected = {i.uid for i in reference if radicale_test_filter("VCALENDAR", i, found)}
        got = set()
        for item, matched in calendar_of(storage).get_filtered([found]):
            answered += matched
            if matched or radicale_test_filter("VCALENDAR", item, found):
                got.add(item.uid)
        assert got == expected, (start, end)
    assert answered > 100  # most were answered from the occurrences, not by Radicale


def test_each_request_gets_its_own_vobject_copy(storage: Storage) -> None:
    """Radicale's expansion changes the vobject object of an item; the next request must see
    the stored object, not what an earlier one left."""
    upload(storage, "weekly.ics", SYNTHETIC["weekly-no-vtimezone"])
    (first,) = calendar_of(storage).get_all()
    first.vobject_item.vevent.dtstart.value = datetime(2030, 1, 1, tzinfo=UTC)
    (second,) = calendar_of(storage).get_all()
    fresh = RadicaleItem(collection_path=CALENDAR, text=SYNTHETIC["weekly-no-vtimezone"])
    assert second.vobject_item.serialize() == fresh.vobject_item.serialize()


def test_when_occurrences_cannot_be_computed_radicale_filters_instead(
    storage: Storage, monkeypatch: pytest.MonkeyPatch
) -> None:
    upload(storage, "weekly.ics", SYNTHETIC["weekly-no-vtimezone"])
    upload(storage, "other.ics", event("other", datetime(2026, 3, 3, 8, 30)))

    def broken(*_args: object) -> None:
        raise ValueError("an expansion that fails")

    monkeypatch.setattr("radicale_plugin.storage_objects.bucket_spans", broken)
    found = time_range_filter(
        datetime(2026, 3, 9, tzinfo=ZURICH), datetime(2026, 3, 10, tzinfo=ZURICH)
    )
    answered = list(calendar_of(storage).get_filtered([found]))
    assert {(item.uid, matched) for item, matched in answered} == {("weekly-dst", False)}
    assert all(radicale_test_filter("VCALENDAR", item, found) for item, _ in answered)

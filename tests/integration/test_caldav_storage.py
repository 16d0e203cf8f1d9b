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

from caldav_bridge.config_loader import load_config
from caldav_bridge.provisioning import provision_calendars
from caldav_bridge.store import Store
from radicale_plugin.application import make_application
from radicale_plugin.storage import Storage
from radicale_plugin.storage_collection import Collection
from radicale_plugin.storage_items import checked_object

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
    app = make_application(store, tmp_path, 10 * 2**20, 2**20, timezone=lambda: ZURICH)
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

"""Stored calendar objects as Radicale items, and what parsing them gave, kept by etag.

An etag is a hash of the object's text (`caldav_bridge.store.calendar.etag_of`): what is kept
for an etag never goes stale, it only stops being used. `ParsedObjects` keeps, for the objects
requests needed recently (least recently used first out):

- the icalendar form and, per 32-day bucket, its occurrences (`storage_timerange`), so a
  calendar-query is answered without Radicale's vobject filter;
- the vobject form, parsed once (2 ms for an object with a VTIMEZONE) and deep-copied for each
  request that needs it (0.1 to 0.5 ms): Radicale's expansion changes the vobject object it is
  given, so a request never gets the kept one.

`StoredItem` is Radicale's ``Item`` made from a store row: without the path checks Radicale's
constructor repeats for every item of a listing (the store's paths were checked when written),
with its last-modified date formatted only when asked, and its vobject form from the cache.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import icalendar
import vobject
from radicale.item import Item as RadicaleItem

from caldav_bridge.errors import ICalendarError
from caldav_bridge.ical import load_calendar
from caldav_bridge.store import Item as StoredRow
from radicale_plugin.storage_items import http_date
from radicale_plugin.storage_timerange import Span, bucket_spans, buckets, exactly_timed, overlaps

if TYPE_CHECKING:
    from radicale import storage

log = logging.getLogger("caldav_bridge.storage")

MAX_OBJECTS = 2048
"""Parsed objects kept per storage: about 40 KB each with a VTIMEZONE, so 80 MB at most;
the events of some twenty weeks of a busy calendar."""

MAX_BUCKETS = 64
"""Occurrence buckets kept per object (about 5.5 years of 32 days)."""


class ParsedObject:
    """One stored text's parsed forms, each computed when first needed (thread-safe: two
    threads may compute the same form at once, and keep either: they are equal)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._calendar: icalendar.Calendar | None = None
        self._exact: bool | None = None
        self._vobject: Any = None
        self._spans: dict[datetime, tuple[Span, ...]] = {}

    def calendar(self) -> icalendar.Calendar:
        if self._calendar is None:
            self._calendar = load_calendar(self.text)
        return self._calendar

    def meets(self, start: datetime, end: datetime, tz: tzinfo) -> bool | None:
        """Whether an occurrence overlaps ``[start, end)`` (UTC); None when only Radicale's
        own filter can tell (`storage_timerange.exactly_timed`), or when computing the
        occurrences failed (logged: Radicale's filter answers instead)."""
        try:
            if self._exact is None:
                self._exact = exactly_timed(self.calendar())
            if not self._exact:
                return None
            return any(overlaps(self._bucket(b, tz), start, end) for b in buckets(start, end))
        except (ICalendarError, ValueError, TypeError, KeyError, IndexError, OverflowError):
            log.warning("Occurrences of a stored object failed; Radicale filters it", exc_info=True)
            self._exact = False
            return None

    def _bucket(self, bucket: datetime, tz: tzinfo) -> tuple[Span, ...]:
        spans = self._spans.get(bucket)
        if spans is None:
            if len(self._spans) >= MAX_BUCKETS:
                self._spans.clear()
            # tz only reads floating times and dates, which an exactly timed object has not
            spans = self._spans[bucket] = bucket_spans(self.calendar(), bucket, tz)
        return spans

    def vobject_copy(self) -> Any:
        """A vobject form of the text that the caller may change."""
        if self._vobject is None:
            self._vobject = vobject.readOne(self.text)
        return copy.deepcopy(self._vobject)


class ParsedObjects:
    """`ParsedObject`s by etag, at most ``limit``, least recently used out first."""

    def __init__(self, limit: int = MAX_OBJECTS) -> None:
        self._limit = limit
        self._objects: OrderedDict[str, ParsedObject] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, etag: str, text: str) -> ParsedObject:
        with self._lock:
            found = self._objects.get(etag)
            if found is not None and found.text == text:
                self._objects.move_to_end(etag)
                return found
            found = self._objects[etag] = ParsedObject(text)
            self._objects.move_to_end(etag)
            if len(self._objects) > self._limit:
                self._objects.popitem(last=False)
            return found

    def __len__(self) -> int:
        return len(self._objects)


class StoredItem(RadicaleItem):
    """Radicale's item over a store row (see the module's docstring)."""

    def __init__(
        self, collection: storage.BaseCollection, row: StoredRow, objects: ParsedObjects
    ) -> None:
        # Radicale's constructor is not called: it only stores these, after checking the path.
        self._collection_path = collection.path
        self.collection = collection
        self.href = row.href
        self._updated_at = row.updated_at
        self._last_modified: str | None = None
        self._text = row.text
        self._vobject_item = None
        self._etag = row.etag
        self._uid = row.uid
        self._name = "VCALENDAR"
        self._component_name = row.component
        self._time_range = None
        self._objects = objects

    @property
    def last_modified(self) -> str | None:
        return http_date(self._updated_at) if self._last_modified is None else self._last_modified

    @last_modified.setter
    def last_modified(self, value: str | None) -> None:
        self._last_modified = value

    @property
    def vobject_item(self) -> Any:
        if self._vobject_item is None:
            self._vobject_item = self.parsed().vobject_copy()
        return self._vobject_item

    def meets(self, start: datetime, end: datetime, tz: tzinfo) -> bool | None:
        """`ParsedObject.meets` of this item's text."""
        return self.parsed().meets(start, end, tz)

    def parsed(self) -> ParsedObject:
        assert self._text is not None
        assert self._etag is not None
        return self._objects.get(self._etag, self._text)

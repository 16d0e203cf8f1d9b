"""One Radicale collection over the store: a principal, a calendar, or the root.

A `Collection` is a snapshot of its row (path, tag, properties) taken by
`Storage.discover`; Radicale reads properties and items after it released its lock (DESIGN.md
§7), so nothing here keeps a transaction open between calls. Reads join the request's write
transaction while Radicale's write lock is held and open a short read transaction otherwise;
writes need the write lock (`Storage.session`).
"""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, overload

from radicale import storage
from radicale.item import Item as RadicaleItem
from radicale.item import filter as radicale_filter

from caldav_bridge.store import Collection as CollectionRow
from caldav_bridge.store import Item as StoredRow
from radicale_plugin.storage_items import (
    COMPONENT_SET,
    checked_tag,
    http_date,
    sync_token,
    token_seq,
)
from radicale_plugin.storage_objects import StoredItem

if TYPE_CHECKING:
    from radicale_plugin.storage import Storage

# A time-range query widens the index window by this much: Radicale reads floating times and
# all-day dates in UTC while the index uses the practice's zone, and the index compares
# strictly. Radicale then filters every candidate exactly (occurrence by occurrence).
INDEX_SLACK = timedelta(days=1)
# Longest window answered from cached occurrences (`storage_timerange`); longer ones (a client
# syncing years at once) go through Radicale's filter.
MAX_EXACT_WINDOW = timedelta(days=400)
_EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MULTIGET_CHUNK = 500  # hrefs per query (SQLite limits bound parameters)


class Collection(storage.BaseCollection):
    def __init__(self, storage_: Storage, row: CollectionRow, last_seq: int | None = None) -> None:
        self._storage = storage_
        self._row = row
        self._seq = last_seq  # read when first needed, then kept: the snapshot's

    @property
    def path(self) -> str:
        return self._row.path

    @property
    def tag(self) -> str:
        return self._row.tag

    @property
    def last_modified(self) -> str:
        return http_date(self._row.modified_at)

    @property
    def etag(self) -> str:
        """Also the ctag: changes with every item change (the log) and property change."""
        state = f"{self._row.id}/{self.last_seq()}/{json.dumps(self.get_meta(), sort_keys=True)}"
        return '"' + hashlib.sha256(state.encode()).hexdigest()[:32] + '"'

    def last_seq(self) -> int:
        """The collection's last change (its sync token), read once per snapshot: a PROPFIND
        asking for the ctag, the etag and the sync token reads it once. A write through this
        snapshot forgets it."""
        if self._seq is None:
            with self._storage.reading() as tx:
                self._seq = tx.last_seq(self.path)
        return self._seq

    # -- properties ------------------------------------------------------------------------

    @overload
    def get_meta(self, key: None = None) -> Mapping[str, str]: ...

    @overload
    def get_meta(self, key: str) -> str | None: ...

    def get_meta(self, key: str | None = None) -> Mapping[str, str] | str | None:
        meta = dict(self._row.props)
        if self._row.tag:
            meta["tag"] = self._row.tag
        return meta if key is None else meta.get(key)

    def set_meta(self, props: Mapping[str, str]) -> None:
        """Replace the properties (a PROPPATCH); what the collection is (its tag) stays.

        Radicale writes a PROPPATCHed ``resourcetype`` as the ``tag`` property and answers a
        ValueError by leaving its lock normally, which commits: the tag is checked against the
        stored one before anything is written (`storage_items.checked_tag`).
        """
        tx = self._storage.session().tx
        stored = tx.collection(self.path)
        if stored is None:
            raise storage.ComponentNotFoundError(self.path)
        with self._storage.explaining():
            checked_tag(props, stored.tag)
        tx.set_collection_props(self.path, dict(props))
        row = tx.collection(self.path)
        assert row is not None
        self._row = row
        self._seq = None

    # -- reading items ---------------------------------------------------------------------

    def get_multi(self, hrefs: Iterable[str]) -> Iterable[tuple[str, RadicaleItem | None]]:
        wanted = list(dict.fromkeys(hrefs))
        found: dict[str, StoredRow] = {}
        with self._storage.reading() as tx:
            for at in range(0, len(wanted), MULTIGET_CHUNK):
                chunk = wanted[at : at + MULTIGET_CHUNK]
                found.update((i.href, i) for i in tx.items_by_href(self.path, chunk))
        return [(href, self._item_or_none(found.get(href))) for href in wanted]

    def get_all(self) -> Iterable[RadicaleItem]:
        with self._storage.reading() as tx:
            rows = tx.items(self.path)
        return [self.radicale_item(row) for row in rows]

    def get_filtered(self, filters: Iterable[ET.Element]) -> Iterable[tuple[RadicaleItem, bool]]:
        """Candidates from the time index, marked ``True`` where we answered the filter.

        For a filter that is exactly "a VEVENT in this time range", the events whose times
        are unambiguous are matched here from their cached occurrences (`storage_timerange`)
        and those without an occurrence in the range are left out; Radicale filters the
        others. A filter that is exactly "has a component of this type" is answered by the
        stored component. When Radicale expands a REPORT it gives no time range here but
        drops every event without an occurrence in the expansion window, so the window
        selects the candidates and events that certainly have none there are left out.
        """
        if not self.tag:
            return []
        tag, start, end, simple = radicale_filter.simplify_prefilters(filters, self.tag)
        timeless = start <= radicale_filter.TIMESTAMP_MIN and end >= radicale_filter.TIMESTAMP_MAX
        expanded = self._storage.expand_window() if timeless and tag == "VEVENT" else None
        window = expanded or (None if timeless else (_instant(start), _instant(end)))
        with self._storage.reading() as tx:
            if window is None:
                rows = tx.items(self.path)
            else:
                low, high = window
                rows = tx.items_between([self.path], low - INDEX_SLACK, high + INDEX_SLACK)
        items = [self.radicale_item(row) for row in rows if tag is None or row.component == tag]
        if window is None or window[1] - window[0] > MAX_EXACT_WINDOW:
            return [(item, simple and timeless) for item in items]
        tz = self._storage.default_tz()
        if expanded is not None:
            low, high = expanded[0] - INDEX_SLACK, expanded[1] + INDEX_SLACK
            return [(item, simple) for item in items if item.meets(low, high, tz) is not False]
        if not (simple and tag == "VEVENT"):
            return [(item, False) for item in items]
        found = ((item, item.meets(*window, tz)) for item in items)
        return [(item, bool(meets)) for item, meets in found if meets is not False]

    def has_uid(self, uid: str) -> bool:
        with self._storage.reading() as tx:
            return tx.item_by_uid(self.path, uid) is not None

    # -- writing items ---------------------------------------------------------------------

    def upload(self, href: str, item: RadicaleItem) -> tuple[RadicaleItem, RadicaleItem | None]:
        checked = self._storage.check(item.serialize(), self.get_meta(COMPONENT_SET), href)
        session = self._storage.session()
        self._seq = None
        old = session.tx.item(self.path, href)
        stored = session.tx.put_item(self.path, href, checked.text, checked.span, session.actor)
        return self.radicale_item(stored), self._item_or_none(old)

    def delete(self, href: str | None = None) -> None:
        session = self._storage.session()
        self._seq = None
        if href is None:
            session.tx.delete_collection(self.path, session.actor)
        elif session.tx.delete_item(self.path, href, session.actor) is None:
            raise storage.ComponentNotFoundError(href)

    # -- synchronisation (RFC 6578) --------------------------------------------------------

    def sync(self, old_token: str = "") -> tuple[str, Iterable[str]]:
        """The current token, and the hrefs changed since ``old_token`` (all if empty).

        The token is read first, and changes only up to it: a write committed meanwhile is
        reported again next time rather than never. The hrefs are read when iterated (a
        PROPFIND for the token alone costs one query).
        """
        seq = self.last_seq()
        token = sync_token(self._row.id, seq)
        if not old_token:
            return token, self._hrefs()
        return token, self._changed_hrefs(token_seq(old_token, self._row.id, seq), seq)

    def _hrefs(self) -> Iterator[str]:
        with self._storage.reading() as tx:
            hrefs = tx.item_hrefs(self.path)
        yield from hrefs

    def _changed_hrefs(self, after: int, upto: int) -> Iterator[str]:
        with self._storage.reading() as tx:
            hrefs = tx.changed_hrefs(self.path, after, upto)
        yield from hrefs

    # -- conversions -----------------------------------------------------------------------

    def radicale_item(self, row: StoredRow) -> StoredItem:
        return StoredItem(self, row, self._storage.objects)

    def _item_or_none(self, row: StoredRow | None) -> RadicaleItem | None:
        return None if row is None else self.radicale_item(row)


def _instant(timestamp: int) -> datetime:
    """A Radicale filter timestamp as a UTC datetime, clamped to what the index can hold."""
    try:
        moment = datetime.fromtimestamp(timestamp, UTC)
    except (OverflowError, OSError, ValueError):
        return _EARLIEST if timestamp < 0 else _LATEST
    return min(max(moment, _EARLIEST), _LATEST)

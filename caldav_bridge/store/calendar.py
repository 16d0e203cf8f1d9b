"""Calendar data: collections, items with their indexed series span, and the change log.

Every write to an item writes a change row (old text, new text, actor) in the same
transaction; the change log's sequence numbers are the collections' sync tokens and feed the
watcher. The store never parses iCalendar: callers pass the UID, component and UTC span they
computed at the edge (`caldav_bridge.ical`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from caldav_bridge.errors import BridgeError
from caldav_bridge.store.schema import changes, collections, items
from caldav_bridge.store.transaction import TxBase


class CollectionExistsError(BridgeError):
    def __init__(self, path: str) -> None:
        super().__init__(f"collection {path!r} exists")
        self.path = path


class NoCollectionError(BridgeError):
    def __init__(self, path: str) -> None:
        super().__init__(f"no collection {path!r}")
        self.path = path


@dataclass(frozen=True)
class Collection:
    id: int
    path: str
    owner: str
    tag: str
    props: dict[str, str]
    modified_at: datetime


@dataclass(frozen=True)
class Item:
    collection_path: str
    href: str
    uid: str
    etag: str
    component: str
    text: str
    start_at: datetime
    end_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Change:
    seq: int
    collection_path: str
    href: str
    uid: str | None
    op: str
    old_text: str | None
    new_text: str | None
    actor: str
    at: datetime


@dataclass(frozen=True)
class Span:
    """What the edge computed from an item's text: for the index and the change log."""

    uid: str
    component: str
    start_at: datetime
    end_at: datetime | None  # None: an infinite recurring series


def etag_of(text: str) -> str:
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


class CalendarQueries(TxBase):
    # -- collections -------------------------------------------------------------------------

    def collection(self, path: str) -> Collection | None:
        row = self.conn.execute(sa.select(collections).where(collections.c.path == path)).first()
        return _collection(row) if row else None

    def child_collections(self, parent: str) -> list[Collection]:
        """Collections directly below ``parent`` ("" for the root: the principals)."""
        prefix = f"{parent}/" if parent else ""
        depth = prefix.count("/")
        rows = self.conn.execute(
            sa.select(collections)
            .where(collections.c.path.startswith(prefix, autoescape=True))
            .order_by(collections.c.path)
        )
        return [_collection(r) for r in rows if r.path.count("/") == depth and r.path != parent]

    def create_collection(
        self, path: str, owner: str, tag: str, props: dict[str, str]
    ) -> Collection:
        if self.collection(path) is not None:
            raise CollectionExistsError(path)
        now = self.now()
        self.conn.execute(
            collections.insert().values(
                path=path, owner=owner, tag=tag, props=_json(props), created_at=now, modified_at=now
            )
        )
        created = self.collection(path)
        assert created is not None
        return created

    def set_collection_props(self, path: str, props: dict[str, str]) -> None:
        found = self._require(path)
        tag = props.get("tag", found.tag)
        self.conn.execute(
            collections.update()
            .where(collections.c.id == found.id)
            .values(props=_json(props), tag=tag, modified_at=self.now())
        )

    def delete_collection(self, path: str, actor: str) -> None:
        """Delete ``path``, the collections below it and their items, logging each item."""
        found = self._require(path)
        doomed = [found, *self._descendants(path)]
        for col in doomed:
            for item in self.items(col.path):
                self._log(col, item.href, item.uid, "delete", item.text, None, actor)
        ids = [col.id for col in doomed]
        self.conn.execute(collections.delete().where(collections.c.id.in_(ids)))

    def _descendants(self, path: str) -> list[Collection]:
        rows = self.conn.execute(
            sa.select(collections).where(collections.c.path.startswith(f"{path}/", autoescape=True))
        )
        return [_collection(r) for r in rows]

    def _require(self, path: str) -> Collection:
        found = self.collection(path)
        if found is None:
            raise NoCollectionError(path)
        return found

    # -- items -------------------------------------------------------------------------------

    def item(self, collection_path: str, href: str) -> Item | None:
        found = self.items_by_href(collection_path, [href])
        return found[0] if found else None

    def items_by_href(self, collection_path: str, hrefs: Sequence[str]) -> list[Item]:
        query = _items_query().where(
            collections.c.path == collection_path, items.c.href.in_(list(hrefs))
        )
        return [_item(r) for r in self.conn.execute(query)]

    def items(self, collection_path: str) -> list[Item]:
        query = _items_query().where(collections.c.path == collection_path).order_by(items.c.href)
        return [_item(r) for r in self.conn.execute(query)]

    def item_hrefs(self, collection_path: str) -> list[str]:
        """The hrefs of a collection's items, without loading their text."""
        query = (
            sa.select(items.c.href)
            .join(collections, collections.c.id == items.c.collection_id)
            .where(collections.c.path == collection_path)
            .order_by(items.c.href)
        )
        return list(self.conn.execute(query).scalars())

    def item_by_uid(self, collection_path: str, uid: str) -> Item | None:
        query = _items_query().where(collections.c.path == collection_path, items.c.uid == uid)
        row = self.conn.execute(query).first()
        return _item(row) if row else None

    def items_between(
        self, collection_paths: Iterable[str], start: datetime, end: datetime
    ) -> list[Item]:
        """Items whose series span meets ``[start, end)``: candidates, from the time index.

        A span ending exactly at ``start`` is included, so zero-length events at ``start`` are
        found (RFC 4791 time-range rules); callers filter occurrences exactly.

        One query for any number of collections; callers expand recurrences and filter
        occurrences exactly.
        """
        query = _items_query().where(
            collections.c.path.in_(list(collection_paths)),
            items.c.start_at < end,
            sa.or_(items.c.end_at.is_(None), items.c.end_at >= start),
        )
        return [_item(r) for r in self.conn.execute(query)]

    def put_item(self, collection_path: str, href: str, text: str, span: Span, actor: str) -> Item:
        """Create or replace the item at ``href``; log the change with the old text."""
        col = self._require(collection_path)
        old = self.item(collection_path, href)
        values = {
            "uid": span.uid,
            "etag": etag_of(text),
            "component": span.component,
            "text": text,
            "start_at": span.start_at,
            "end_at": span.end_at,
            "size": len(text.encode()),
            "updated_at": self.now(),
        }
        if old is None:
            self.conn.execute(items.insert().values(collection_id=col.id, href=href, **values))
        else:
            self.conn.execute(
                items.update()
                .where(items.c.collection_id == col.id, items.c.href == href)
                .values(**values)
            )
        self._log(col, href, span.uid, "put", old.text if old else None, text, actor)
        stored = self.item(collection_path, href)
        assert stored is not None
        return stored

    def delete_item(self, collection_path: str, href: str, actor: str) -> Item | None:
        """Delete the item at ``href`` (None if there was none); log it with its old text."""
        col = self._require(collection_path)
        old = self.item(collection_path, href)
        if old is None:
            return None
        self.conn.execute(
            items.delete().where(items.c.collection_id == col.id, items.c.href == href)
        )
        self._log(col, href, old.uid, "delete", old.text, None, actor)
        return old

    def move_item(self, from_path: str, href: str, to_path: str, to_href: str, actor: str) -> Item:
        """Move an item; logged as a delete at the source and a put at the destination."""
        source, target = self._require(from_path), self._require(to_path)
        old = self.item(from_path, href)
        if old is None:
            raise NoCollectionError(f"{from_path}/{href}")
        self.conn.execute(
            items.delete().where(items.c.collection_id == target.id, items.c.href == to_href)
        )
        self.conn.execute(
            items.update()
            .where(items.c.collection_id == source.id, items.c.href == href)
            .values(collection_id=target.id, href=to_href, updated_at=self.now())
        )
        self._log(source, href, old.uid, "delete", old.text, None, actor)
        self._log(target, to_href, old.uid, "put", None, old.text, actor)
        moved = self.item(to_path, to_href)
        assert moved is not None
        return moved

    # -- change log --------------------------------------------------------------------------

    def last_seq(self, collection_path: str) -> int:
        """The newest change of a collection (0 if none): its sync token and ctag."""
        seq = self.conn.execute(
            sa.select(sa.func.max(changes.c.seq)).where(
                changes.c.collection_path == collection_path
            )
        ).scalar()
        return int(seq or 0)

    def last_seqs(self, collection_paths: Iterable[str]) -> dict[str, int]:
        """`last_seq` of several collections in one query (a collection without changes is
        left out)."""
        rows = self.conn.execute(
            sa.select(changes.c.collection_path, sa.func.max(changes.c.seq))
            .where(changes.c.collection_path.in_(list(collection_paths)))
            .group_by(changes.c.collection_path)
        )
        return {path: int(seq) for path, seq in rows}

    def changes_since(self, collection_path: str, seq: int) -> list[Change]:
        rows = self.conn.execute(
            sa.select(changes)
            .where(changes.c.collection_path == collection_path, changes.c.seq > seq)
            .order_by(changes.c.seq)
        )
        return [_change(r) for r in rows]

    def changed_hrefs(self, collection_path: str, after: int, upto: int) -> list[str]:
        """Each href changed in ``(after, upto]``, once, without the texts (for sync reports)."""
        rows = self.conn.execute(
            sa.select(changes.c.href)
            .where(
                changes.c.collection_path == collection_path,
                changes.c.seq > after,
                changes.c.seq <= upto,
            )
            .group_by(changes.c.href)
            .order_by(sa.func.min(changes.c.seq))
        )
        return list(rows.scalars())

    def changes_after(self, seq: int, limit: int = 500) -> list[Change]:
        """Every collection's changes after ``seq``, oldest first (for the watcher)."""
        rows = self.conn.execute(
            sa.select(changes).where(changes.c.seq > seq).order_by(changes.c.seq).limit(limit)
        )
        return [_change(r) for r in rows]

    def _log(
        self,
        col: Collection,
        href: str,
        uid: str | None,
        op: str,
        old_text: str | None,
        new_text: str | None,
        actor: str,
    ) -> None:
        now = self.now()
        self.conn.execute(
            changes.insert().values(
                collection_id=col.id,
                collection_path=col.path,
                href=href,
                uid=uid,
                op=op,
                old_text=old_text,
                new_text=new_text,
                actor=actor,
                at=now,
            )
        )
        self.conn.execute(
            collections.update().where(collections.c.id == col.id).values(modified_at=now)
        )


def _items_query() -> sa.Select[tuple[object, ...]]:
    return sa.select(
        collections.c.path.label("collection_path"),
        items.c.href,
        items.c.uid,
        items.c.etag,
        items.c.component,
        items.c.text,
        items.c.start_at,
        items.c.end_at,
        items.c.updated_at,
    ).join(collections, collections.c.id == items.c.collection_id)


def _item(row: sa.Row[tuple[object, ...]]) -> Item:
    return Item(
        collection_path=row.collection_path,
        href=row.href,
        uid=row.uid,
        etag=row.etag,
        component=row.component,
        text=row.text,
        start_at=row.start_at,
        end_at=row.end_at,
        updated_at=row.updated_at,
    )


def _collection(row: sa.Row[tuple[object, ...]]) -> Collection:
    return Collection(
        id=row.id,
        path=row.path,
        owner=row.owner,
        tag=row.tag,
        props=json.loads(row.props),
        modified_at=row.modified_at,
    )


def _change(row: sa.Row[tuple[object, ...]]) -> Change:
    return Change(
        seq=row.seq,
        collection_path=row.collection_path,
        href=row.href,
        uid=row.uid,
        op=row.op,
        old_text=row.old_text,
        new_text=row.new_text,
        actor=row.actor,
        at=row.at,
    )


def _json(props: dict[str, str]) -> str:
    return json.dumps(props, sort_keys=True, ensure_ascii=False)

"""Radicale storage plugin: CalDAV collections and items in the caldav-bridge store.

Radicale builds plugins from its configuration alone; `radicale_plugin.application` passes a
factory that binds the store, so several stores may live in one process. The one thing set
process-wide is vobject's time zone map (`storage_zones`), to the same value by every storage.

Locking (DESIGN.md §7). Radicale wraps every request in ``acquire_lock("r"|"w")``:

- ``"w"`` opens ONE store write transaction holding the lock of the therapist that owns the
  path (and of the destination's owner for MOVE). Every read and write of the request joins
  it, so Radicale's checks (If-Match, UID conflicts) and the write are atomic, and the item
  and its change row commit together when the lock is left. Radicale catches a ValueError
  inside the lock and leaves it normally, which commits: every object is therefore checked
  (`storage_items.checked_object`) before anything is written.
- ``"r"`` holds nothing: Radicale reads collection properties and items after releasing it,
  so collections are snapshots and each read opens its own short read transaction.

The acting login for the change log is Radicale's ``actor`` keyword of ``acquire_lock("w")``
(the authenticated user; Radicale 3.9 passes it for every write). It lives in a per-storage,
per-thread session for the duration of the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from radicale import config, pathutils, storage, types
from radicale.item import Item as RadicaleItem

from caldav_bridge.provisioning import CALENDAR_USER_ADDRESS_SET
from caldav_bridge.store import Collection as CollectionRow
from caldav_bridge.store import Store, Tx
from radicale_plugin.storage_collection import Collection
from radicale_plugin.storage_items import (
    CheckedObject,
    Refused,
    checked_name,
    checked_object,
    checked_tag,
    href_for_uid,
    lock_owners,
    owner_of,
    readable_object,
)
from radicale_plugin.storage_objects import ParsedObjects
from radicale_plugin.storage_zones import use_zoneinfo_for_iana_names

ROOT = CollectionRow(
    id=0, path="", owner="", tag="", props={}, modified_at=datetime(2026, 1, 1, tzinfo=UTC)
)
ChildContext = Callable[[str, str | None], AbstractContextManager[None]]


@dataclass(frozen=True)
class Session:
    """The write transaction of the request holding Radicale's write lock, and its actor."""

    tx: Tx
    actor: str


class Storage(storage.BaseStorage):
    _supports_unicode = True  # Radicale otherwise refuses non-ASCII user and path names

    def __init__(
        self,
        configuration: config.Configuration,
        store: Store,
        default_tz: Callable[[], tzinfo],
    ) -> None:
        super().__init__(configuration)
        self.store = store
        self.default_tz = default_tz
        self.max_resource_bytes: int = configuration.get("server", "max_resource_size")
        self._local = threading.local()
        self.objects = ParsedObjects()  # parsed forms by etag, across requests (storage_objects)
        use_zoneinfo_for_iana_names()  # what Radicale computes must not depend on request order

    # -- transactions and the lock ---------------------------------------------------------

    @types.contextmanager
    def acquire_lock(self, mode: str, user: str = "", *args: Any, **kwargs: Any) -> Iterator[None]:
        if mode != "w" or self._session() is not None:
            yield
            return
        owners = lock_owners(kwargs.get("path", ""), kwargs.get("to_path", ""), user)
        with self.store.write(*owners) as tx:
            self._local.session = Session(tx, str(kwargs.get("actor") or user))
            try:
                yield
            finally:
                self._local.session = None

    def session(self) -> Session:
        """The current write session; writing outside Radicale's write lock is a bug."""
        session = self._session()
        if session is None:
            raise RuntimeError("storage write outside Radicale's write lock")
        return session

    @contextmanager
    def reading(self) -> Iterator[Tx]:
        """The request's write transaction if it holds the lock, else a short read one."""
        session = self._session()
        if session is not None:
            yield session.tx
            return
        with self.store.read() as tx:
            yield tx

    def _session(self) -> Session | None:
        return getattr(self._local, "session", None)

    # -- what one request tells the storage ------------------------------------------------

    def start_request(self, expand: tuple[datetime, datetime] | None = None) -> None:
        """Forget what an earlier request of this thread left; note a REPORT's expansion."""
        self._local.refusal = None
        self._local.expand_window = expand

    def expand_window(self) -> tuple[datetime, datetime] | None:
        """The window Radicale expands this request's REPORT in (`expand_window`), if any."""
        window: tuple[datetime, datetime] | None = getattr(self._local, "expand_window", None)
        return window

    def check(self, text: str, components: str | None, *names: str) -> CheckedObject:
        """`checked_object` with this storage's limits, and ``names`` (hrefs, paths) the store
        can keep."""
        with self.explaining():
            for name in names:
                checked_name(name)
            return checked_object(
                text,
                max_bytes=self.max_resource_bytes,
                default_tz=self.default_tz(),
                components=components,
            )

    @contextmanager
    def explaining(self) -> Iterator[None]:
        """A `Refused` raised inside is kept for the response (`storage_responses`)."""
        try:
            yield
        except Refused as refusal:
            self._local.refusal = refusal
            raise

    def take_refusal(self) -> Refused | None:
        """The refusal of this thread's current request, if any (then forgotten)."""
        refusal: Refused | None = getattr(self._local, "refusal", None)
        self._local.refusal = None
        return refusal

    def is_calendar_object_path(self, path: str) -> bool:
        """Whether a PUT to ``path`` (the one Radicale accepted) targets one calendar object."""
        parent = pathutils.sanitize_path(path).strip("/").rpartition("/")[0]
        with self.reading() as tx:
            row = tx.collection(parent) if parent else None
        return row is not None and row.tag == "VCALENDAR"

    def calendar_user_addresses(self, principal: str) -> list[str]:
        """The addresses (``mailto:``) provisioning gave a principal, for discovery."""
        with self.reading() as tx:
            row = tx.collection(principal) if principal else None
        value = row.props.get(CALENDAR_USER_ADDRESS_SET, "") if row and not row.tag else ""
        return value.split()

    # -- discovery -------------------------------------------------------------------------

    def discover(
        self,
        path: str,
        depth: str = "0",
        child_context_manager: ChildContext | None = None,
        user_groups: set[str] = set(),  # noqa: B006 (Radicale's signature)
    ) -> Iterable[types.CollectionOrItem]:
        """Lazy: nothing is read until the first element is asked for, items only after."""
        return self._discover(pathutils.strip_path(path), depth, child_context_manager)

    def _discover(
        self, path: str, depth: str, child_context: ChildContext | None
    ) -> Iterator[types.CollectionOrItem]:
        found = self._lookup(path)
        if found is None:
            return
        yield found
        if depth == "0" or not isinstance(found, Collection):
            return
        context = child_context or (lambda _path, _href: nullcontext())
        for item in found.get_all():
            with context(path, item.href):
                yield item
        with self.reading() as tx:
            children = tx.child_collections(path)
            seqs = tx.last_seqs([child.path for child in children]) if children else {}
        for child in children:
            with context(child.path, None):
                yield Collection(self, child, seqs.get(child.path, 0))

    def _lookup(self, path: str) -> types.CollectionOrItem | None:
        if not path:
            return Collection(self, ROOT)
        parent_path, _, href = path.rpartition("/")
        with self.reading() as tx:
            row = tx.collection(path)
            if row is not None:
                return Collection(self, row)
            parent = tx.collection(parent_path) if parent_path else None
            item = tx.item(parent_path, href) if parent is not None else None
        if parent is None or item is None:
            return None
        return Collection(self, parent).radicale_item(item)

    # -- collections -----------------------------------------------------------------------

    def create_collection(
        self,
        href: str,
        items: Iterable[RadicaleItem] | None = None,
        props: Mapping[str, str] | None = None,
    ) -> tuple[Collection, dict[str, RadicaleItem], list[str]]:
        """MKCOL/MKCALENDAR, a principal, or a whole-collection PUT (replacing its items)."""
        path = pathutils.strip_path(href)
        tx = self.session().tx
        with self.explaining():
            checked_name(path, "path")
        if not props:
            row = tx.collection(path) or tx.create_collection(path, owner_of(path), "", {})
            return Collection(self, row), {}, []
        given = dict(props)
        checked = [
            self.check(item.serialize(), given.get("C:supported-calendar-component-set"))
            for item in items or ()
        ]
        row = self._replace_collection(tx, path, given)
        replaced, new = self._replace_items(row, checked)
        return Collection(self, row), replaced, new

    def _replace_collection(self, tx: Tx, path: str, props: dict[str, str]) -> CollectionRow:
        found = tx.collection(path)
        if found is None:  # we hold the owner's lock: nobody creates it meanwhile
            return tx.create_collection(path, owner_of(path), props.get("tag", ""), props)
        with self.explaining():
            checked_tag(props, found.tag)
        tx.set_collection_props(path, props)
        row = tx.collection(path)
        assert row is not None
        return row

    def _replace_items(
        self, row: CollectionRow, checked: list[CheckedObject]
    ) -> tuple[dict[str, RadicaleItem], list[str]]:
        session = self.session()
        collection = Collection(self, row)
        old = {item.href: item for item in session.tx.items(row.path)}
        new: dict[str, CheckedObject] = {}
        for obj in checked:
            new[href_for_uid(obj.span.uid, set(new))] = obj
        for href, obj in new.items():
            session.tx.put_item(row.path, href, obj.text, obj.span, session.actor)
        for href in old.keys() - new.keys():
            session.tx.delete_item(row.path, href, session.actor)
        replaced: dict[str, RadicaleItem] = {
            h: collection.radicale_item(old[h]) for h in new if h in old
        }
        return replaced, [h for h in new if h not in old]

    def move(self, item: RadicaleItem, to_collection: storage.BaseCollection, to_href: str) -> None:
        if not pathutils.is_safe_path_component(to_href):
            raise pathutils.UnsafePathError(to_href)
        with self.explaining():
            checked_name(to_href)
        assert item.collection is not None
        assert item.href is not None
        session = self.session()
        session.tx.move_item(
            item.collection.path, item.href, to_collection.path, to_href, session.actor
        )

    # -- verification ----------------------------------------------------------------------

    def verify(self) -> bool:
        """Every stored object reads back with the UID it is indexed by."""
        problems = 0
        with self.store.read() as tx:
            pending = [""]
            while pending:
                path = pending.pop()
                pending.extend(child.path for child in tx.child_collections(path))
                for item in tx.items(path) if path else []:
                    problems += not readable_object(item.text, item.uid, f"{path}/{item.href}")
        return problems == 0

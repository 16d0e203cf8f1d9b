"""The store's behaviour, one test class run unchanged on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from caldav_bridge.errors import LoginError, StoreError
from caldav_bridge.store import Span, Store
from caldav_bridge.store.calendar import CollectionExistsError
from caldav_bridge.store.migrate import current_revision, head_revision, require_current
from caldav_bridge.store.schema import metadata


class TestStoreContract:
    def test_migrations_build_exactly_the_declared_schema(self, store: Store) -> None:
        assert current_revision(store.engine) == head_revision()
        require_current(store.engine)
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
        assert differences == []

    def test_a_new_login_has_no_password_until_one_is_set(self, store: Store) -> None:
        with store.write() as tx:
            created = tx.ensure_user("anne", "therapist")
        assert created.login == "anne"
        assert created.password_hash is None
        assert created.active
        with store.write() as tx:
            again = tx.ensure_user("anne", "therapist")
            tx.set_password_hash("anne", "hash-1")
        assert again.id == created.id
        with store.read() as tx:
            found = tx.user("anne")
        assert found is not None
        assert found.password_hash == "hash-1"

    def test_a_login_keeps_its_role(self, store: Store) -> None:
        with store.write() as tx:
            tx.ensure_user("admin", "admin")
        with pytest.raises(LoginError, match="role"), store.write() as tx:
            tx.ensure_user("admin", "therapist")

    def test_setting_the_password_of_an_unknown_login_fails(self, store: Store) -> None:
        with pytest.raises(LoginError, match="no login 'nobody'"), store.write() as tx:
            tx.set_password_hash("nobody", "x")

    def test_deactivated_logins_are_listed_as_inactive(self, store: Store) -> None:
        with store.write() as tx:
            tx.ensure_user("marc", "therapist")
            tx.ensure_user("anne", "therapist")
            tx.set_active("marc", False)
        with store.read() as tx:
            listed = [(u.login, u.active) for u in tx.users()]
        assert listed == [("anne", True), ("marc", False)]

    def test_app_passwords_belong_to_one_login_and_can_be_revoked(self, store: Store) -> None:
        with store.write() as tx:
            tx.ensure_user("anne", "therapist")
            tx.ensure_user("marc", "therapist")
            phone = tx.add_app_password("anne", "iPhone", "h-phone")
            tx.add_app_password("anne", "Thunderbird", "h-tb")
        with store.write() as tx:
            assert not tx.revoke_app_password("marc", phone)  # not marc's to revoke
            assert tx.revoke_app_password("anne", phone)
            assert not tx.revoke_app_password("anne", phone)  # already revoked
        with store.read() as tx:
            live = [p.label for p in tx.app_passwords("anne")]
            every = [
                (p.label, p.revoked_at is not None)
                for p in tx.app_passwords("anne", include_revoked=True)
            ]
        assert live == ["Thunderbird"]
        assert every == [("iPhone", True), ("Thunderbird", False)]

    def test_datetimes_come_back_aware_and_equal(self, database_url: str) -> None:
        zurich_summer = timezone(timedelta(hours=2))
        moment = datetime(2026, 7, 1, 14, 30, 15, tzinfo=zurich_summer)
        store = Store.connect(database_url, clock=lambda: moment)
        with store.write() as tx:
            tx.audit("admin", "settings.change", "practice")
        with store.read() as tx:
            (entry,) = tx.audit_entries()
        store.close()
        assert entry.at == moment
        assert entry.at.tzinfo is not None
        assert entry.at.utcoffset() == timedelta(0)

    def test_state_values_are_set_and_replaced(self, store: Store) -> None:
        with store.write() as tx:
            assert tx.state_value("cursor") is None
            tx.set_state_value("cursor", "1")
            tx.set_state_value("cursor", "2")
        with store.read() as tx:
            assert tx.state_value("cursor") == "2"

    def test_the_audit_log_lists_newest_first(self, store: Store) -> None:
        with store.write() as tx:
            tx.audit("admin", "therapist.create", "paul")
            tx.audit("anne", "patient.read", "patient:7")
        with store.read() as tx:
            entries = [(e.actor, e.action, e.subject) for e in tx.audit_entries()]
        assert entries == [
            ("anne", "patient.read", "patient:7"),
            ("admin", "therapist.create", "paul"),
        ]

    def test_a_failed_write_leaves_nothing_behind(self, store: Store) -> None:
        def half_write() -> None:
            with store.write("anne") as tx:
                tx.ensure_user("anne", "therapist")
                tx.set_state_value("half", "written")
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError, match="boom"):
            half_write()
        with store.read() as tx:
            assert tx.user("anne") is None
            assert tx.state_value("half") is None

    def test_writers_for_one_therapist_never_lose_an_update(self, store: Store) -> None:
        with store.write() as tx:
            tx.set_state_value("counter", "0")

        def increment() -> None:
            with store.write("anne") as tx:
                value = int(tx.state_value("counter") or "0")
                tx.set_state_value("counter", str(value + 1))

        threads = [threading.Thread(target=increment) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        with store.read() as tx:
            assert tx.state_value("counter") == "12"

    def test_a_therapists_lock_holds_a_second_writer_until_commit(self, store: Store) -> None:
        holder_in = threading.Event()
        waiter_in = threading.Event()
        order: list[str] = []

        def waiter() -> None:
            holder_in.wait(10)
            with store.write("anne") as tx:
                order.append("waiter")
                tx.set_state_value("who", "waiter")
                waiter_in.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        with store.write("anne") as tx:
            tx.set_state_value("who", "holder")
            holder_in.set()
            # The waiter must not get in while we hold anne's lock.
            assert not waiter_in.wait(0.5)
            order.append("holder")
        thread.join(30)
        assert order == ["holder", "waiter"]
        with store.read() as tx:
            assert tx.state_value("who") == "waiter"


def test_an_unreachable_database_is_one_clear_line(tmp_path: object) -> None:
    with pytest.raises(StoreError) as caught:
        Store.connect("postgresql+psycopg://nobody:secret@127.0.0.1:9/nothing?connect_timeout=2")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(
        "cannot reach the database postgresql+psycopg://nobody:***@127.0.0.1:9/"
    )
    assert "secret" not in message


def test_an_empty_database_asks_for_init(tmp_path: object) -> None:
    store = Store.connect("sqlite://")
    with pytest.raises(StoreError, match="run `caldav-bridge init` first"):
        require_current(store.engine)
    store.close()


@pytest.mark.postgres
def test_postgres_locks_are_per_therapist(postgres_url: str) -> None:
    """On PostgreSQL, anne's lock does not hold up a write to marc's calendar."""
    store = Store.connect(postgres_url)
    marc_done = threading.Event()

    def marc() -> None:
        with store.write("marc") as tx:
            tx.set_state_value("marc", "written")
        marc_done.set()

    with store.write("anne"):
        thread = threading.Thread(target=marc)
        thread.start()
        assert marc_done.wait(10), "marc's write waited for anne's lock"
    thread.join(10)
    store.close()


def test_clock_is_the_stores(sqlite_url: str) -> None:
    fixed = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    store = Store.connect(sqlite_url, clock=lambda: fixed)
    with store.write() as tx:
        tx.ensure_user("anne", "therapist")
        tx.add_app_password("anne", "DAVx5", "h")
    with store.read() as tx:
        (password,) = tx.app_passwords("anne")
    store.close()
    assert password.created_at == fixed


ZURICH = timezone(timedelta(hours=1))


def span(uid: str, start: str, end: str | None) -> Span:
    return Span(
        uid=uid,
        component="VEVENT",
        start_at=datetime.fromisoformat(start).replace(tzinfo=ZURICH),
        end_at=datetime.fromisoformat(end).replace(tzinfo=ZURICH) if end else None,
    )


class TestCalendarContract:
    def make_calendar(self, store: Store, path: str = "anne/appointments") -> None:
        with store.write() as tx:
            if tx.collection("anne") is None:
                tx.create_collection("anne", "anne", "", {})
            tx.create_collection(path, "anne", "VCALENDAR", {"D:displayname": "Rendez-vous"})

    def test_collections_nest_under_their_principal(self, store: Store) -> None:
        self.make_calendar(store)
        self.make_calendar(store, "anne/private")
        with store.read() as tx:
            assert [c.path for c in tx.child_collections("")] == ["anne"]
            children = tx.child_collections("anne")
        assert [(c.path, c.tag) for c in children] == [
            ("anne/appointments", "VCALENDAR"),
            ("anne/private", "VCALENDAR"),
        ]
        assert children[0].props == {"D:displayname": "Rendez-vous"}

    def test_creating_an_existing_collection_fails(self, store: Store) -> None:
        self.make_calendar(store)
        with pytest.raises(CollectionExistsError), store.write() as tx:
            tx.create_collection("anne/appointments", "anne", "VCALENDAR", {})

    def test_put_replace_delete_are_logged_with_old_and_new_text(self, store: Store) -> None:
        self.make_calendar(store)
        with store.write("anne") as tx:
            first = tx.put_item(
                "anne/appointments",
                "a.ics",
                "v1",
                span("a", "2026-12-02 14:00", "2026-12-02 15:15"),
                "anne",
            )
            second = tx.put_item(
                "anne/appointments",
                "a.ics",
                "v2",
                span("a", "2026-12-02 15:15", "2026-12-02 16:30"),
                "patient",
            )
            tx.delete_item("anne/appointments", "a.ics", "anne")
        assert first.etag != second.etag
        with store.read() as tx:
            log = [
                (c.op, c.old_text, c.new_text, c.actor)
                for c in tx.changes_since("anne/appointments", 0)
            ]
            assert tx.item("anne/appointments", "a.ics") is None
        assert log == [
            ("put", None, "v1", "anne"),
            ("put", "v1", "v2", "patient"),
            ("delete", "v2", None, "anne"),
        ]

    def test_sync_token_is_the_last_change(self, store: Store) -> None:
        self.make_calendar(store)
        with store.read() as tx:
            assert tx.last_seq("anne/appointments") == 0
        with store.write("anne") as tx:
            tx.put_item(
                "anne/appointments",
                "a.ics",
                "v1",
                span("a", "2026-12-02 14:00", "2026-12-02 15:00"),
                "anne",
            )
        with store.read() as tx:
            token = tx.last_seq("anne/appointments")
            assert tx.changes_since("anne/appointments", token) == []
        with store.write("anne") as tx:
            tx.put_item(
                "anne/appointments",
                "b.ics",
                "v1",
                span("b", "2026-12-03 14:00", "2026-12-03 15:00"),
                "anne",
            )
        with store.read() as tx:
            assert [c.href for c in tx.changes_since("anne/appointments", token)] == ["b.ics"]
            assert tx.last_seq("anne/appointments") > token

    def test_last_seqs_reads_several_collections_at_once(self, store: Store) -> None:
        self.make_calendar(store)
        self.make_calendar(store, "anne/private")
        self.make_calendar(store, "anne/empty")
        with store.write("anne") as tx:
            for path, href in (("anne/appointments", "a.ics"), ("anne/private", "p.ics")):
                tx.put_item(path, href, "v1", span(href, "2026-12-02 14:00", None), "anne")
            tx.put_item(
                "anne/appointments", "b.ics", "v1", span("b", "2026-12-02 14:00", None), "anne"
            )
        paths = ["anne/appointments", "anne/private", "anne/empty", "nobody/else"]
        with store.read() as tx:
            one_by_one = {path: tx.last_seq(path) for path in paths}
            at_once = tx.last_seqs(paths)
        assert at_once == {path: seq for path, seq in one_by_one.items() if seq}
        assert set(at_once) == {"anne/appointments", "anne/private"}

    def test_items_between_uses_the_series_span(self, store: Store) -> None:
        self.make_calendar(store)
        self.make_calendar(store, "anne/private")
        put = [
            ("anne/appointments", "in", "2026-12-02 14:00", "2026-12-02 15:00"),
            ("anne/appointments", "before", "2026-11-02 14:00", "2026-11-30 23:59"),
            ("anne/appointments", "at-start", "2026-12-01 00:00", "2026-12-01 00:00"),
            ("anne/private", "weekly", "2025-01-06 08:00", None),
            ("anne/private", "at-end", "2026-12-09 00:00", "2026-12-09 01:00"),
        ]
        with store.write("anne") as tx:
            for path, uid, start, end in put:
                tx.put_item(path, f"{uid}.ics", "x", span(uid, start, end), "anne")
        window = (datetime(2026, 12, 1, tzinfo=ZURICH), datetime(2026, 12, 9, tzinfo=ZURICH))
        with store.read() as tx:
            found = tx.items_between(["anne/appointments", "anne/private"], *window)
            only_private = tx.items_between(["anne/private"], *window)
        assert sorted(i.uid for i in found) == ["at-start", "in", "weekly"]
        assert [i.uid for i in only_private] == ["weekly"]

    def test_moving_an_item_logs_both_collections(self, store: Store) -> None:
        self.make_calendar(store)
        self.make_calendar(store, "anne/private")
        with store.write("anne") as tx:
            tx.put_item(
                "anne/private",
                "m.ics",
                "x",
                span("m", "2026-12-02 14:00", "2026-12-02 15:00"),
                "anne",
            )
            tx.move_item("anne/private", "m.ics", "anne/appointments", "n.ics", "anne")
        with store.read() as tx:
            assert tx.item("anne/private", "m.ics") is None
            moved = tx.item("anne/appointments", "n.ics")
            assert moved is not None
            assert moved.uid == "m"
            assert [c.op for c in tx.changes_since("anne/private", 0)] == ["put", "delete"]
            assert [c.op for c in tx.changes_since("anne/appointments", 0)] == ["put"]

    def test_deleting_a_collection_logs_each_item(self, store: Store) -> None:
        self.make_calendar(store, "anne/private")
        with store.write("anne") as tx:
            tx.put_item(
                "anne/private",
                "a.ics",
                "A",
                span("a", "2026-12-02 14:00", "2026-12-02 15:00"),
                "anne",
            )
            tx.delete_collection("anne/private", "anne")
        with store.read() as tx:
            assert tx.collection("anne/private") is None
            deletes = [
                (c.op, c.old_text) for c in tx.changes_since("anne/private", 0) if c.op == "delete"
            ]
        assert deletes == [("delete", "A")]

    def test_a_rolled_back_write_leaves_no_change_row(self, store: Store) -> None:
        self.make_calendar(store)

        def failing_put() -> None:
            with store.write("anne") as tx:
                tx.put_item(
                    "anne/appointments",
                    "a.ics",
                    "v1",
                    span("a", "2026-12-02 14:00", "2026-12-02 15:00"),
                    "anne",
                )
                raise RuntimeError("validation failed after the write")

        with pytest.raises(RuntimeError):
            failing_put()
        with store.read() as tx:
            assert tx.changes_after(0) == []
            assert tx.item("anne/appointments", "a.ics") is None

    def test_hrefs_and_changed_hrefs_leave_the_texts_out(self, store: Store) -> None:
        self.make_calendar(store)
        with store.write("anne") as tx:
            for href in ("b.ics", "a.ics"):
                tx.put_item(
                    "anne/appointments",
                    href,
                    "v1",
                    span(href, "2026-12-02 14:00", "2026-12-02 15:00"),
                    "anne",
                )
        with store.read() as tx:
            token = tx.last_seq("anne/appointments")
        with store.write("anne") as tx:
            tx.put_item(
                "anne/appointments", "a.ics", "v2", span("a", "2026-12-03 14:00", None), "anne"
            )
            tx.delete_item("anne/appointments", "a.ics", "anne")
            tx.put_item(
                "anne/appointments", "c.ics", "v1", span("c", "2026-12-04 14:00", None), "anne"
            )
        with store.read() as tx:
            newest = tx.last_seq("anne/appointments")
            assert tx.item_hrefs("anne/appointments") == ["b.ics", "c.ics"]
            assert tx.changed_hrefs("anne/appointments", token, newest) == ["a.ics", "c.ics"]
            assert tx.changed_hrefs("anne/appointments", token, newest - 1) == ["a.ics"]
            assert tx.changed_hrefs("anne/appointments", newest, newest) == []

    def test_an_item_knows_when_it_was_last_written(self, database_url: str) -> None:
        now = [datetime(2026, 12, 1, 9, tzinfo=UTC)]
        clocked = Store.connect(database_url, clock=lambda: now[0])
        with clocked.write("anne") as tx:
            tx.create_collection("anne/appointments", "anne", "VCALENDAR", {})
        now[0] = datetime(2026, 12, 1, 10, tzinfo=UTC)
        with clocked.write("anne") as tx:
            tx.put_item(
                "anne/appointments", "a.ics", "v1", span("a", "2026-12-02 14:00", None), "anne"
            )
        with clocked.read() as tx:
            found = tx.item("anne/appointments", "a.ics")
        clocked.close()
        assert found is not None
        assert found.updated_at == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_concurrent_state_writers_never_collide(store: Store) -> None:
    """Watchers writing their heartbeat at once: an upsert, not update-then-insert."""
    errors: list[BaseException] = []
    gate = threading.Barrier(8)

    def write(i: int) -> None:
        gate.wait(10)
        try:
            with store.write() as tx:
                tx.set_state_value("heartbeat", str(i))
        except BaseException as exc:  # any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    with store.read() as tx:
        assert tx.state_value("heartbeat") in {str(i) for i in range(8)}

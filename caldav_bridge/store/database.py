"""Engines and transactions for SQLite and PostgreSQL (DESIGN.md §7).

Every write runs in one transaction that first takes the locks of the therapists whose calendars
it may change: on SQLite ``BEGIN IMMEDIATE`` (one writer at a time, so every therapist's lock at
once); on PostgreSQL a transaction-scoped advisory lock per therapist, taken in login order so
that two writers can never deadlock on them. Reads never block writers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from caldav_bridge.errors import StoreError

DATABASE_URL_ENV = "CALDAV_BRIDGE_DATABASE_URL"
SQLITE_FILE = "caldav-bridge.sqlite3"
# How long a SQLite writer waits for another's lock before giving up (seconds).
SQLITE_BUSY_TIMEOUT = 30


def database_url(configured: str, data_dir: Path, environ: Mapping[str, str]) -> str:
    """The URL to use: the environment's, else the file's, else a SQLite file in ``data_dir``."""
    url = environ.get(DATABASE_URL_ENV) or configured or f"sqlite:///{data_dir / SQLITE_FILE}"
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def redacted(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return sa.make_url(url).render_as_string(hide_password=True)


def lock_key(login: str) -> int:
    """A stable signed 64-bit advisory lock key for a therapist's calendars."""
    digest = hashlib.blake2b(login.encode(), digest_size=8, person=b"cb-lock").digest()
    return int.from_bytes(digest, "big", signed=True)


def create_engine(url: str) -> Engine:
    """An engine for ``url``, configured for our transaction discipline."""
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise StoreError(f"invalid database URL {url!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.get_backend_name() == "postgresql":
        return sa.create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)
    raise StoreError(
        f"unsupported database {parsed.get_backend_name()!r}; use SQLite or PostgreSQL"
    )


def _sqlite_engine(url: sa.URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT, "check_same_thread": False}
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves (pysqlite would otherwise defer it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = "IMMEDIATE" if connection.info.get("write") else "DEFERRED"
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


@contextmanager
def open_transaction(
    engine: Engine, *, write: bool, therapists: tuple[str, ...] = ()
) -> Iterator[Connection]:
    """One transaction; for a write, holding the locks of ``therapists`` until it ends."""
    with engine.connect() as connection:
        connection.info["write"] = write
        with connection.begin():
            if write and engine.dialect.name == "postgresql":
                for login in sorted(set(therapists)):
                    connection.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key(login))))
            yield connection


def ping(engine: Engine) -> None:
    """Raise `StoreError` with one clear line if the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError(
            f"cannot reach the database {redacted(str(engine.url))}: {reason}"
        ) from exc

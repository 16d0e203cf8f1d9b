"""The store: the only code that speaks SQL (SQLite or PostgreSQL through SQLAlchemy Core).

    store = Store.connect(url)
    with store.write("anne") as tx:      # holds anne's lock until commit
        tx.set_password_hash("anne", h)
    with store.read() as tx:
        tx.user("anne")

Queries are grouped by concept in mixins; `Tx` combines them over one connection.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from caldav_bridge.store.admin_views import AdminViewQueries
from caldav_bridge.store.appointments import Appointment, AppointmentQueries
from caldav_bridge.store.calendar import CalendarQueries, Change, Collection, Item, Span
from caldav_bridge.store.database import create_engine, open_transaction, ping
from caldav_bridge.store.erasure import ErasureQueries
from caldav_bridge.store.feeds import FeedQueries
from caldav_bridge.store.login_attempts import LoginAttemptQueries
from caldav_bridge.store.outbox import OutboxQueries
from caldav_bridge.store.patients import Patient, PatientDetails, PatientQueries
from caldav_bridge.store.practice_patients import PracticePatientQueries
from caldav_bridge.store.rate_limits import RateLimitQueries
from caldav_bridge.store.records import AuditQueries, StateQueries
from caldav_bridge.store.therapist_views import TherapistViewQueries
from caldav_bridge.store.users import AppPassword, User, UserQueries
from caldav_bridge.store.watching import WatcherQueries

__all__ = [
    "AppPassword",
    "Appointment",
    "Change",
    "Collection",
    "Item",
    "Patient",
    "PatientDetails",
    "Span",
    "Store",
    "Tx",
    "User",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


class Tx(
    UserQueries,
    PatientQueries,
    AppointmentQueries,
    CalendarQueries,
    StateQueries,
    AuditQueries,
    OutboxQueries,
    WatcherQueries,
    FeedQueries,
    RateLimitQueries,
    LoginAttemptQueries,
    TherapistViewQueries,
    AdminViewQueries,
    PracticePatientQueries,
    ErasureQueries,
):
    """Everything one transaction can read or write."""


class Store:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def connect(cls, url: str, clock: Callable[[], datetime] = utc_now) -> Store:
        """A store on ``url``; raises `StoreError` if the database cannot be reached."""
        store = cls(create_engine(url), clock)
        ping(store.engine)
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self, *therapists: str) -> Iterator[Tx]:
        """A write transaction holding the locks of ``therapists``' calendars."""
        with open_transaction(self.engine, write=True, therapists=therapists) as conn:
            yield Tx(conn, self.clock, write=True)

    @contextmanager
    def read(self) -> Iterator[Tx]:
        with open_transaction(self.engine, write=False) as conn:
            yield Tx(conn, self.clock, write=False)

    def close(self) -> None:
        self.engine.dispose()

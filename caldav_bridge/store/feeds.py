"""What the read-only ICS feed reads: its revocable version, appointment labels, freshness.

The feed's version is a `state` value per therapist; bumping it changes the feed's secret URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from caldav_bridge.store.schema import appointments, changes, collections, patients, state
from caldav_bridge.store.transaction import TxBase

UID_CHUNK = 500  # UIDs per query (SQLite limits bound parameters)
STATE_PREFIX = "feed:"
STATE_NAME_LENGTH = 64  # state.name is String(64)


@dataclass(frozen=True)
class AppointmentLabel:
    """What a synced calendar may show of an appointment (the patient is None once deleted)."""

    uid: str
    service: str
    first_name: str | None
    last_name: str | None


@dataclass(frozen=True)
class FeedFreshness:
    """Everything the feed's text depends on in the database, for its ETag."""

    last_seq: int
    collections_modified: tuple[tuple[str, datetime], ...]
    appointments_modified: datetime | None
    appointments_with_patient: int
    patients_modified: datetime | None


def feed_state_name(login: str) -> str:
    name = STATE_PREFIX + login
    if len(name) <= STATE_NAME_LENGTH:
        return name
    return STATE_PREFIX + "#" + hashlib.sha256(login.encode()).hexdigest()[:40]


class FeedQueries(TxBase):
    def feed_version(self, login: str) -> int:
        value = self.conn.execute(
            sa.select(state.c.value).where(state.c.name == feed_state_name(login))
        ).scalar()
        return int(value) if value else 0

    def bump_feed_version(self, login: str) -> int:
        """Invalidate ``login``'s feed URL; returns the new version."""
        version = self.feed_version(login) + 1
        name, now = feed_state_name(login), self.now()
        updated = self.conn.execute(
            state.update().where(state.c.name == name).values(value=str(version), updated_at=now)
        )
        if updated.rowcount == 0:
            self.conn.execute(state.insert().values(name=name, value=str(version), updated_at=now))
        return version

    def appointment_labels(self, uids: Iterable[str]) -> dict[str, AppointmentLabel]:
        """The appointments among ``uids``, with their patient's name."""
        wanted = sorted(set(uids))
        found: dict[str, AppointmentLabel] = {}
        query = sa.select(
            appointments.c.uid,
            appointments.c.service,
            patients.c.first_name,
            patients.c.last_name,
        ).outerjoin(patients, patients.c.id == appointments.c.patient_id)
        for at in range(0, len(wanted), UID_CHUNK):
            chunk = wanted[at : at + UID_CHUNK]
            for row in self.conn.execute(query.where(appointments.c.uid.in_(chunk))):
                found[row.uid] = AppointmentLabel(
                    row.uid, row.service, row.first_name, row.last_name
                )
        return found

    def feed_freshness(self, login: str, paths: Sequence[str]) -> FeedFreshness:
        """Cheap facts that change whenever ``login``'s feed over ``paths`` would."""
        seq = self.conn.execute(
            sa.select(sa.func.max(changes.c.seq)).where(changes.c.collection_path.in_(paths))
        ).scalar()
        modified = self.conn.execute(
            sa.select(collections.c.path, collections.c.modified_at)
            .where(collections.c.path.in_(paths))
            .order_by(collections.c.path)
        )
        facts = self.conn.execute(
            sa.select(
                sa.func.max(appointments.c.updated_at),
                sa.func.count(appointments.c.patient_id),
                sa.func.max(patients.c.updated_at),
            )
            .select_from(appointments)
            .outerjoin(patients, patients.c.id == appointments.c.patient_id)
            .where(appointments.c.therapist == login)
        ).one()
        return FeedFreshness(
            last_seq=int(seq or 0),
            collections_modified=tuple((r.path, r.modified_at) for r in modified),
            appointments_modified=facts[0],
            appointments_with_patient=int(facts[1] or 0),
            patients_modified=facts[2],
        )

"""The database schema (DESIGN.md §4): one definition for SQLite and PostgreSQL.

Alembic migrations in `caldav_bridge/migrations` create exactly this schema; a store contract
test compares the two on both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

# Constraint names stable across databases, so migrations can refer to them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit sequence.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored as naive UTC; read back as aware UTC on every database."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # SQLite before the DateTime converter ran
            value = datetime.fromisoformat(value)
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


users = Table(
    "users",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("login", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),  # "admin" | "therapist"
    Column("password_hash", String(255), nullable=True),  # None: cannot log in yet
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

app_passwords = Table(
    "app_passwords",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("user_id", BigId, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(100), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
    Index(None, "user_id"),
)

collections = Table(
    "collections",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("path", String(255), nullable=False, unique=True),  # "anne/appointments"
    Column("owner", String(64), nullable=False),
    Column("tag", String(16), nullable=False, default=""),  # "VCALENDAR", "" for a principal
    Column("props", Text, nullable=False, default="{}"),  # JSON object of WebDAV properties
    Column("created_at", UTCDateTime, nullable=False),
    Column("modified_at", UTCDateTime, nullable=False),
    Index(None, "owner"),
)

items = Table(
    "items",
    metadata,
    Column("id", BigId, primary_key=True),
    Column(
        "collection_id", BigId, ForeignKey("collections.id", ondelete="CASCADE"), nullable=False
    ),
    Column("href", String(255), nullable=False),
    Column("uid", String(255), nullable=False),
    Column("etag", String(80), nullable=False),
    Column("component", String(16), nullable=False),  # VEVENT, VTODO, VJOURNAL
    Column("text", Text, nullable=False),
    # The whole series' span in UTC; end None = an infinite recurring series.
    Column("start_at", UTCDateTime, nullable=False),
    Column("end_at", UTCDateTime, nullable=True),
    Column("size", Integer, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("collection_id", "href"),
    Index(None, "collection_id", "start_at", "end_at"),
    Index(None, "collection_id", "uid"),
)

changes = Table(
    "changes",
    metadata,
    Column("seq", BigId, primary_key=True, autoincrement=True),
    Column("collection_id", BigId, nullable=True),  # kept after the collection is deleted
    Column("collection_path", String(255), nullable=False),
    Column("href", String(255), nullable=False),
    Column("uid", String(255), nullable=True),
    Column("op", String(16), nullable=False),  # "put" | "delete" | "move"
    Column("old_text", Text, nullable=True),
    Column("new_text", Text, nullable=True),
    Column("actor", String(64), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index(None, "collection_path", "seq"),
)

patients = Table(
    "patients",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(254), nullable=True),
    Column("phone", String(20), nullable=True),  # E.164
    Column("language", String(8), nullable=False),
    Column("sms_enabled", Boolean, nullable=False, default=True),
    Column("notes", Text, nullable=False, default=""),
    Column("consent_at", UTCDateTime, nullable=True),
    Column("created_by", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "email"),
    Index(None, "phone"),
)

appointments = Table(
    "appointments",
    metadata,
    Column("uid", String(255), primary_key=True),
    Column("therapist", String(64), nullable=False),
    Column("collection_path", String(255), nullable=False),
    Column("href", String(255), nullable=False),
    Column("patient_id", BigId, ForeignKey("patients.id", ondelete="SET NULL"), nullable=True),
    Column("service", String(64), nullable=False),
    Column("start_at", UTCDateTime, nullable=False),
    Column("end_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # "confirmed" | "cancelled"
    Column("created_by", String(64), nullable=False),  # "patient", a login, or "admin"
    Column("sms_enabled", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),  # bumps invalidate manage links
    Column("message", Text, nullable=False, default=""),  # the patient's note to the therapist
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index(None, "therapist", "start_at"),
    Index(None, "patient_id"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("idempotency_key", String(255), nullable=False, unique=True),
    Column("channel", String(8), nullable=False),  # "email" | "sms"
    Column("recipient", String(254), nullable=False),
    Column("template", String(64), nullable=False),
    Column("data", Text, nullable=False),  # JSON
    Column("appointment_uid", String(255), nullable=True),
    Column("state", String(16), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=True),
    Column("provider_id", String(64), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Index(None, "state", "next_attempt_at"),
    Index(None, "appointment_uid"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("details", Text, nullable=False, default=""),
    Index(None, "at"),
)

# Small named values: the watcher's cursor, schema facts, generated tokens.
state = Table(
    "state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

"""Schema migrations (Alembic) run programmatically on the store's engine."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from caldav_bridge.errors import StoreError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def _alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision this code knows; read from the migration scripts once per process
    (they cannot change under a running process, and reading them costs more than a request)."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (safe to run concurrently on PostgreSQL)."""
    config = _alembic_config()
    with engine.connect() as connection:
        connection.info["write"] = True
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def require_current(engine: Engine) -> None:
    """Raise `StoreError` unless the schema is at the newest revision."""
    current, head = current_revision(engine), head_revision()
    if current is None:
        raise StoreError("the database is empty; run `caldav-bridge init` first")
    if current != head:
        raise StoreError(
            f"the database schema is at revision {current}, this version needs {head}; "
            "run `caldav-bridge db upgrade`"
        )

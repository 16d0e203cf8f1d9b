"""Alembic environment: runs on the connection the store hands over (see store/migrate.py)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from caldav_bridge.store.database import lock_key
from caldav_bridge.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Two processes upgrading at once: the second waits, then finds nothing to do.
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(lock_key("*migrations*"))))
    context.run_migrations()

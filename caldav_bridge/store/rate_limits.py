"""Rate-limit counters shared by every process: fixed windows counted with one upsert.

A counter is a ``(key, window_start)`` row; `count_hit` inserts it or adds one in a single
statement (``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``), which both SQLite and
PostgreSQL make atomic, so several `serve` processes on one PostgreSQL share each limit.
Rows of windows that have ended are swept when a new window starts.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from caldav_bridge.store.schema import UTCDateTime, metadata
from caldav_bridge.store.transaction import TxBase

rate_limits = sa.Table(
    "rate_limits",
    metadata,
    sa.Column("key", sa.String(128), primary_key=True),  # "booking:192.0.2.7"
    sa.Column("window_start", UTCDateTime, primary_key=True),
    sa.Column("hits", sa.Integer, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),  # the window's end
    sa.Index(None, "expires_at"),
)


class RateLimitQueries(TxBase):
    def count_hit(self, key: str, window_start: datetime, expires_at: datetime) -> int:
        """Count one hit of ``key`` in the window ``[window_start, expires_at)``; return the
        window's hits so far, this one included."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(rate_limits)
            .values(key=key, window_start=window_start, hits=1, expires_at=expires_at)
            .on_conflict_do_update(
                index_elements=[rate_limits.c.key, rate_limits.c.window_start],
                set_={"hits": rate_limits.c.hits + 1},
            )
            .returning(rate_limits.c.hits)
        )
        hits = int(self.conn.execute(statement).scalar_one())
        if hits == 1:  # a new window: forget every window that has ended
            self.conn.execute(rate_limits.delete().where(rate_limits.c.expires_at <= window_start))
        return hits

    def rate_limit_hits(self, key: str, window_start: datetime) -> int:
        """The hits of ``key`` in the window starting at ``window_start`` (0 if none)."""
        found = self.conn.execute(
            sa.select(rate_limits.c.hits).where(
                rate_limits.c.key == key, rate_limits.c.window_start == window_start
            )
        ).scalar()
        return int(found or 0)

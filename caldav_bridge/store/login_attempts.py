"""The login throttle's memory (`caldav_bridge.login_throttle`), shared by every process.

- ``login_failures``: one row per verified wrong password: scope, login, client address,
  the keyed digest of what was sent (never the password) and the time. Rows are only ever
  inserted, so failures made at once by several processes are all counted.
- ``login_known_addresses``: the last success of each (scope, login, address), upserted.

`login_history` answers all that one attempt needs in one statement of indexed scalar
subqueries; each limit's subquery reads at most that limit's rows from an index, newest
first. The writes prune a bounded batch of rows past their use (failures older than the
window, addresses unseen for ``known_address_for``), skipping rows another transaction holds.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from caldav_bridge.login_throttle import History, ThrottleRules
from caldav_bridge.store.schema import BigId, UTCDateTime, metadata
from caldav_bridge.store.transaction import TxBase

PRUNE_BATCH = 16  # rows deleted at most per write: more than one write adds, so it keeps up

login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),  # "caldav" | "web"
    sa.Column("login", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),  # IPv4, IPv6 /64 or "unknown"
    sa.Column("credential", sa.String(64), nullable=False),  # keyed digest, never a password
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Index(None, "scope", "login", "at"),
    sa.Index(None, "scope", "address", "at"),
    sa.Index(None, "scope", "login", "address", "at"),
    sa.Index(None, "at"),
)

login_known_addresses = sa.Table(
    "login_known_addresses",
    metadata,
    sa.Column("id", BigId, primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("login", sa.String(64), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Column("last_success_at", UTCDateTime, nullable=False),
    sa.UniqueConstraint("scope", "login", "address"),
    sa.Index(None, "last_success_at"),
)


class LoginAttemptQueries(TxBase):
    def login_history(
        self,
        scope: str,
        login: str,
        address: str,
        credential: str,
        now: datetime,
        rules: ThrottleRules,
    ) -> History:
        """What the throttle remembers about this attempt, as of ``now`` (one statement)."""
        f, k = login_failures.c, login_known_addresses.c
        since = sa.literal(now - rules.window, UTCDateTime)
        last_success = (
            sa.select(k.last_success_at)
            .where(k.scope == scope, k.login == login, k.address == address)
            .scalar_subquery()
        )
        wrong_again = (
            sa.select(f.id)
            .where(f.scope == scope, f.login == login, f.at > since, f.credential == credential)
            .exists()
        )
        pair = _nth_latest(
            rules.per_login_address,
            f.scope == scope,
            f.login == login,
            f.address == address,
            f.at > since,
            f.at > sa.func.coalesce(last_success, since),  # a success forgets earlier ones
        )
        by_address = _nth_latest(
            rules.per_address, f.scope == scope, f.address == address, f.at > since
        )
        by_login = _nth_latest(rules.per_login, f.scope == scope, f.login == login, f.at > since)
        row = self.conn.execute(
            sa.select(wrong_again, last_success, pair, by_address, by_login)
        ).one()
        return History(bool(row[0]), row[1], row[2], row[3], row[4])

    def record_login_failure(
        self,
        scope: str,
        login: str,
        address: str,
        credential: str,
        now: datetime,
        rules: ThrottleRules,
    ) -> None:
        """Count one verified wrong password; forget a batch of failures past the window."""
        self.conn.execute(
            login_failures.insert().values(
                scope=scope, login=login, address=address, credential=credential, at=now
            )
        )
        self._prune(login_failures, login_failures.c.at, now - rules.window)

    def record_login_success(
        self, scope: str, login: str, address: str, now: datetime, rules: ThrottleRules
    ) -> None:
        """Remember that ``address`` opened ``login`` at ``now`` (its earlier failures on
        that login stop counting); forget a batch of addresses unseen for too long."""
        table = login_known_addresses
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        insert = dialect.insert(table).values(
            scope=scope, login=login, address=address, last_success_at=now
        )
        latest = sa.case(
            (
                insert.excluded.last_success_at > table.c.last_success_at,
                insert.excluded.last_success_at,
            ),
            else_=table.c.last_success_at,
        )
        self.conn.execute(
            insert.on_conflict_do_update(
                index_elements=[table.c.scope, table.c.login, table.c.address],
                set_={"last_success_at": latest},
            )
        )
        self._prune(table, table.c.last_success_at, now - rules.known_address_for)

    def _prune(self, table: sa.Table, column: sa.Column[datetime], until: datetime) -> None:
        """Delete at most `PRUNE_BATCH` rows whose ``column`` is at or before ``until``."""
        doomed = (
            sa.select(table.c.id)
            .where(column <= until)
            .limit(PRUNE_BATCH)
            .with_for_update(skip_locked=True)
        )
        self.conn.execute(table.delete().where(table.c.id.in_(doomed.scalar_subquery())))


def _nth_latest(n: int, *conditions: sa.ColumnElement[bool]) -> sa.ScalarSelect[datetime]:
    """The time of the ``n``-th latest failure meeting ``conditions`` (a scalar subquery)."""
    at = login_failures.c.at
    return (
        sa.select(at)
        .where(*conditions)
        .order_by(at.desc())
        .limit(1)
        .offset(n - 1)
        .scalar_subquery()
    )

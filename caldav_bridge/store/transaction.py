"""The base of a store transaction: a connection and the clock.

Each concept's queries (users, state, audit, calendar items, ...) is a mixin over `TxBase`, in
its own module; `caldav_bridge.store.Tx` combines them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Connection


class TxBase:
    def __init__(self, conn: Connection, clock: Callable[[], datetime], *, write: bool) -> None:
        self.conn = conn
        self.now = clock
        self.write = write

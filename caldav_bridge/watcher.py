"""The watcher: one pass at a time over the change log and the outbox.

Each pass records a heartbeat that `/healthz` reports. Reading changes and delivering
notifications is the notifications issue's work (DESIGN.md §5); until it lands a pass consumes
nothing, so no change is skipped before the code that handles it exists.
"""

from __future__ import annotations

from datetime import datetime

from caldav_bridge.store import Store

HEARTBEAT = "watcher.heartbeat"


class Watcher:
    def __init__(self, store: Store) -> None:
        self.store = store

    def run_once(self, now: datetime) -> None:
        with self.store.write() as tx:
            tx.set_state_value(HEARTBEAT, now.isoformat())

    def last_heartbeat(self) -> datetime | None:
        with self.store.read() as tx:
            value = tx.state_value(HEARTBEAT)
        return datetime.fromisoformat(value) if value else None

"""The watcher: one pass at a time over the change log, the due reminders and the outbox.

`Watcher.run_once(now)` reads the changes after its cursor (appointment rows follow their
events; messages are enqueued), enqueues the reminders due at ``now``, then delivers what is
due. Several watchers may run against one PostgreSQL (threads of `serve`, `caldav-bridge
watch` processes): the cursor and each outbox row are claimed with ``SKIP LOCKED``, so every
message goes out once (see `caldav_bridge.notify.outbox` for the exact guarantee).

Each pass starts by recording a heartbeat (at most every 5 s) that `/healthz` reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caldav_bridge.config import Config
from caldav_bridge.notify.compose import Composer
from caldav_bridge.notify.intake import IntakeReport, enqueue_reminders, take_changes
from caldav_bridge.notify.outbox import DeliveryReport, deliver_due
from caldav_bridge.notify.senders import Senders
from caldav_bridge.notify.templates import Templates
from caldav_bridge.store import Store

log = logging.getLogger(__name__)

HEARTBEAT = "watcher.heartbeat"
HEARTBEAT_EVERY = timedelta(seconds=5)


@dataclass(frozen=True)
class Notifier:
    """What a pass needs beyond the store; built by an entry point (`bridge_server`)."""

    config: Callable[[], Config]  # the current configuration (reloaded when the file changes)
    templates: Templates
    secret_key: str
    senders: Callable[[Config], Senders]


@dataclass
class PassReport:
    intake: IntakeReport = field(default_factory=IntakeReport)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)

    def summary(self) -> str:
        i, d = self.intake, self.delivery
        return (
            f"changes read: {i.changes} ({i.appointment_changes} about appointments); "
            f"messages enqueued: {i.enqueued} notices, {i.reminders} reminders; "
            f"delivered: {d.sent} sent, {d.retried} to retry, {d.failed} failed, "
            f"{d.uncertain} uncertain, {d.skipped} skipped"
        )


class Watcher:
    def __init__(self, store: Store, notifier: Notifier | None = None) -> None:
        """Without a ``notifier`` the watcher only reads and writes its heartbeat."""
        self.store = store
        self.notifier = notifier
        self._last_beat: datetime | None = None

    def run_once(self, now: datetime) -> PassReport:
        self._beat(now)  # first: a pass slowed by an SMTP server still shows the watcher alive
        report = PassReport()
        if self.notifier is not None:
            config = self.notifier.config()
            composer = Composer(config, self.notifier.templates, self.notifier.secret_key)
            take_changes(self.store, composer, now, report.intake)
            enqueue_reminders(self.store, composer, now, report.intake)
            deliver_due(self.store, self.notifier.senders(config), now, report.delivery)
        return report

    def step(self, now: datetime) -> None:
        """A pass for a background loop: its counts logged when it did something."""
        report = self.run_once(now)
        if report.intake.changes or report.intake.reminders or report.delivery.handled:
            log.info("watcher pass: %s", report.summary())

    def last_heartbeat(self) -> datetime | None:
        return last_heartbeat(self.store)

    def _beat(self, now: datetime) -> None:
        if self._last_beat is not None and abs(now - self._last_beat) < HEARTBEAT_EVERY:
            return
        with self.store.write() as tx:
            tx.record_heartbeat(HEARTBEAT, now.isoformat())
        self._last_beat = now


def last_heartbeat(store: Store) -> datetime | None:
    with store.read() as tx:
        value = tx.state_value(HEARTBEAT)
    return datetime.fromisoformat(value) if value else None

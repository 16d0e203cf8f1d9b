"""A practice for notification tests: the demo configuration pointed at loopback SMTP and
Twilio servers, a store on a real database with a clock the test moves, and the watcher as
`serve` builds it (`bridge_server.notifications.build_watcher`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bridge_server.notifications import build_watcher
from caldav_bridge.booking import Booking, BookingRequest, book
from caldav_bridge.config import Config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.provisioning import provision_calendars
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import PatientDetails, Store
from caldav_bridge.store.outbox import OutboxEntry
from caldav_bridge.watcher import PassReport, Watcher
from tests.support.smtp import SmtpServer
from tests.support.twilio_server import ACCOUNT_SID, AUTH_TOKEN, TwilioServer

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZURICH)  # a Monday
SECRET = "notification-tests-secret-key"
ENVIRON = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN}
SENDER = "Cabinet du Lac <rendez-vous@cabinet-du-lac.example>"
ZOE = PatientDetails("Zoë", "Müller", "zoe@example.org", "+41791234567", "fr")
HANS = PatientDetails("Hans", "Keller", "hans@example.org", "+41797654321", "de")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> datetime:
        self.now = now
        return now


def configure(
    toml: Path,
    smtp: SmtpServer | None = None,
    twilio: TwilioServer | None = None,
    **notifications: object,
) -> Path:
    """Point the demo configuration at the test servers; override [notifications] keys."""
    text = toml.read_text(encoding="utf-8")
    for key, value in notifications.items():
        literal = str(value).lower() if isinstance(value, bool) else str(value)
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {literal}", text)
        assert count == 1, key
    if smtp is not None:
        text += (
            f'\n[smtp]\nhost = "{smtp.host}"\nport = {smtp.port}\nsecurity = "none"\n'
            f'from = "{SENDER}"\n'
        )
    if twilio is not None:
        text += (
            f'\n[twilio]\naccount_sid = "{ACCOUNT_SID}"\nauth_token_env = "TWILIO_AUTH_TOKEN"\n'
            f'from_number = "+41790000000"\napi_base_url = "{twilio.base_url}"\n'
        )
    toml.write_text(text, encoding="utf-8")
    return toml


@dataclass
class Practice:
    store: Store
    runtime: Runtime
    clock: Clock
    watcher: Watcher

    @property
    def config(self) -> Config:
        return self.runtime.config

    def book(
        self,
        start: str | datetime,
        patient: PatientDetails = ZOE,
        service: str = "seance-75",
        therapist: str = "anne",
        actor: str = "patient",
    ) -> Booking:
        when = at(start) if isinstance(start, str) else start
        request = BookingRequest(service, therapist, when, patient, True, "Merci", actor)
        return book(self.store, self.config, request, self.clock())

    def run(self, now: datetime | None = None) -> PassReport:
        return self.watcher.run_once(self.clock.set(now) if now else self.clock())

    def run_until_quiet(self, now: datetime | None = None, passes: int = 5) -> None:
        """Passes at ``now`` until one finds nothing to do (bounded)."""
        for _ in range(passes):
            report = self.run(now)
            if not (report.intake.changes or report.delivery.handled):
                return
        raise AssertionError(f"still busy after {passes} passes")

    def outbox(self, uid: str | None = None) -> list[OutboxEntry]:
        with self.store.read() as tx:
            return tx.outbox_entries(uid)

    def later(self, **delta: float) -> datetime:
        return self.clock.set(self.clock() + timedelta(**delta))


_OPENED: list[Store] = []


def open_practice(toml: Path, database_url: str, clock: Clock | None = None) -> Practice:
    """A practice on ``database_url``; `close_practices` closes its store."""
    clock = clock or Clock()
    store = Store.connect(database_url, clock)
    _OPENED.append(store)
    source = ConfigSource(toml)
    provision_calendars(store, source.current())
    runtime = Runtime(config_source=source, store=store, secret_key=SECRET, clock=clock)
    return Practice(store, runtime, clock, build_watcher(runtime, ENVIRON))


def close_practices() -> None:
    """Close the stores `open_practice` opened (call it from a test module's fixture)."""
    while _OPENED:
        _OPENED.pop().close()

"""Benchmark: from a booking's commit to its email accepted by the SMTP server.

What it measures, in one process, same machine, same run:

- notify: `book()` commits (event, appointment and change row in one transaction); the
  watcher thread, built and run exactly as `caldav-bridge serve` does (a pass every
  `WATCH_INTERVAL` seconds, default settings), reads the change, enqueues the notices and
  delivers them over SMTP to a real server on loopback (aiosmtpd). Latency: commit -> the
  server accepting the patient's email (and the therapist's, the second one).
- reference: the same kind of message sent directly with smtplib to the same server: the
  floor any notification path pays.

Bookings start at a random moment within the watcher's interval (a patient does not book in
step with the watcher), one at a time. Also reported: the cost of an idle watcher pass.

    .venv/bin/python bench/bench_notify.py [--runs 40] [--interval 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import smtplib
import socket
import statistics
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from bridge_server.background import BackgroundLoop
from bridge_server.commands import WATCH_INTERVAL
from bridge_server.notifications import build_watcher
from caldav_bridge.availability import find_slots, slot_query
from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.provisioning import provision_calendars
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import PatientDetails, Store, utc_now
from caldav_bridge.store.migrate import upgrade

DEMO = Path(__file__).resolve().parents[1] / "config" / "practice.toml"


class Inbox:
    """An aiosmtpd handler noting when each message was accepted."""

    def __init__(self) -> None:
        self.accepted: dict[str, list[float]] = {}
        self.condition = threading.Condition()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.condition:
            for rcpt in envelope.rcpt_tos:
                self.accepted.setdefault(rcpt, []).append(time.perf_counter())
            self.condition.notify_all()
        await asyncio.sleep(0)
        return "250 OK"

    def wait(self, rcpt: str, count: int, timeout: float = 30.0) -> float:
        with self.condition:
            if not self.condition.wait_for(
                lambda: len(self.accepted.get(rcpt, [])) >= count, timeout
            ):
                raise TimeoutError(f"no email for {rcpt} within {timeout} s")
            return self.accepted[rcpt][count - 1]


def practice(folder: Path, port: int) -> Path:
    toml = folder / "config" / "practice.toml"
    toml.parent.mkdir(parents=True)
    shutil.copy(DEMO, toml)
    with toml.open("a", encoding="utf-8") as file:
        file.write(
            f'\n[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\n'
            'from = "Cabinet du Lac <rendez-vous@cabinet-du-lac.example>"\n'
        )
    return toml


def slots(store: Store, source: ConfigSource, count: int) -> list[tuple[str, datetime]]:
    config = source.current()
    found: list[tuple[str, datetime]] = []
    first = date.today() + timedelta(days=3)
    for therapist in ("anne", "marc"):
        query = slot_query(config, "suivi-45", therapist, first, 40)
        with store.read() as tx:
            found += [(therapist, s.start) for s in find_slots(tx, config, query, utc_now())]
    random.Random(7).shuffle(found)
    if len(found) < count:
        raise SystemExit(f"only {len(found)} free slots for {count} runs")
    return found[:count]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure_notify(
    store: Store, source: ConfigSource, inbox: Inbox, runs: int, interval: float
) -> tuple[list[float], list[float]]:
    patient_ms: list[float] = []
    both_ms: list[float] = []
    per_therapist: dict[str, int] = {}
    for n, (therapist, start) in enumerate(slots(store, source, runs)):
        time.sleep(random.uniform(0, interval))  # an arbitrary phase against the watcher
        email = f"patient{n}@example.org"
        who = PatientDetails("Zoë", f"Müller {n}", email, None, "fr")
        request = BookingRequest("suivi-45", therapist, start, who, consent=True)
        book(store, source.current(), request, utc_now())
        committed = time.perf_counter()
        colleague = source.current().therapists[therapist].email
        per_therapist[colleague] = per_therapist.get(colleague, 0) + 1
        patient_at = inbox.wait(email, 1)
        therapist_at = inbox.wait(colleague, per_therapist[colleague])
        patient_ms.append((patient_at - committed) * 1000)
        both_ms.append((max(patient_at, therapist_at) - committed) * 1000)
    return patient_ms, both_ms


def measure_reference(port: int, inbox: Inbox, runs: int) -> list[float]:
    found: list[float] = []
    for n in range(runs):
        message = EmailMessage()
        message["From"] = "rendez-vous@cabinet-du-lac.example"
        message["To"] = f"reference{n}@example.org"
        message["Subject"] = "Rendez-vous confirmé"
        message.set_content("Bonjour,\n\nvotre rendez-vous est confirmé.\n" * 10)
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.send_message(message)
        found.append((inbox.wait(f"reference{n}@example.org", 1) - started) * 1000)
    return found


def idle_pass_ms(watcher_step: Any, passes: int = 50) -> float:
    timings = []
    for _ in range(passes):
        started = time.perf_counter()
        watcher_step(datetime.now(UTC))
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--interval", type=float, default=WATCH_INTERVAL)
    args = parser.parse_args()
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory(prefix="bench-notify-") as tmp:
        toml = practice(Path(tmp), port)
        store = Store.connect(f"sqlite:///{tmp}/bench.sqlite3")
        upgrade(store.engine)
        source = ConfigSource(toml)
        provision_calendars(store, source.current())
        key = "bench-key"  # a throwaway practice
        runtime = Runtime(config_source=source, store=store, secret_key=key, clock=utc_now)
        watcher = build_watcher(runtime, {})
        idle = idle_pass_ms(watcher.run_once)
        loop = BackgroundLoop("watcher", watcher.step, utc_now, args.interval)
        loop.start()
        try:
            patient, both = measure_notify(store, source, inbox, args.runs, args.interval)
        finally:
            loop.stop()
        reference = measure_reference(port, inbox, args.runs)
        store.close()
    controller.stop()
    print(f"SQLite store, watcher interval {args.interval:g} s, {args.runs} bookings")
    print(f"{'':<34}{'median (ms)':>12}{'p95 (ms)':>10}")
    for label, values in (
        ("commit -> patient email accepted", patient),
        ("commit -> both emails accepted", both),
        ("reference: direct SMTP send", reference),
    ):
        print(f"{label:<34}{statistics.median(values):>12.1f}{percentile(values, 0.95):>10.1f}")
    print(f"idle watcher pass: {idle:.2f} ms (median)")
    ratio = statistics.median(patient) / statistics.median(reference)
    print(f"notify / reference (median): {ratio:.0f}x")


if __name__ == "__main__":
    main()

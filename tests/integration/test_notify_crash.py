"""The watcher killed between sending a message and recording it, then restarted; and two
watcher processes on one PostgreSQL. Real `caldav-bridge` processes, SIGKILL, real servers.

The SMTP (or Twilio) test server accepts the message and holds its answer; the test kills the
sender right then: the provider has the message, the outbox still says ``sending``. A restart
must not deliver it twice: Twilio is asked and the SID recorded; SMTP cannot be asked, so the
email is marked ``uncertain`` (never resent) and shows in the delivery log.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from caldav_bridge.availability import find_slots, slot_query
from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.store import PatientDetails, Store
from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.notify import (
    ENVIRON,
    HANS,
    NOW,
    ZOE,
    at,
    close_practices,
    configure,
    open_practice,
)
from tests.support.serve import CLI, run_cli
from tests.support.smtp import SmtpServer
from tests.support.twilio_server import TwilioServer

LEASE_OVER = timedelta(minutes=6)


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@pytest.fixture
def servers() -> Iterator[tuple[SmtpServer, TwilioServer]]:
    with SmtpServer() as smtp, TwilioServer() as twilio:
        yield smtp, twilio


def cli_env(database_url: str) -> dict[str, str]:
    return {**ENVIRON, DATABASE_URL_ENV: database_url}


def notify(toml: Path, database_url: str, now: datetime) -> subprocess.CompletedProcess[str]:
    done = run_cli(
        "--config",
        str(toml),
        "notify",
        "run-once",
        "--now",
        now.isoformat(),
        env=cli_env(database_url),
    )
    assert done.returncode == 0, done.stderr
    return done


def killed_while_held(
    toml: Path, database_url: str, now: datetime, held: SmtpServer | TwilioServer
) -> None:
    """`notify run-once` killed with SIGKILL once the provider holds the first message."""
    held.hold_answers()
    process = subprocess.Popen(
        [CLI, "--config", str(toml), "notify", "run-once", "--now", now.isoformat()],
        env={**os.environ, **cli_env(database_url)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        held.wait_until_holding()
        process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        held.release()


def test_an_email_interrupted_after_delivery_is_never_sent_twice(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio)
    practice = open_practice(toml, database_url)
    uid = practice.book("2026-12-02 15:15").appointment.uid
    killed_while_held(toml, database_url, NOW, smtp)
    assert [r.to for r in smtp.received] == ["zoe@example.org"]
    assert [e.state for e in practice.outbox(uid)] == ["sending", "claimed"]

    notify(toml, database_url, NOW + timedelta(minutes=1))  # the leases still hold
    assert [e.state for e in practice.outbox(uid)] == ["sending", "claimed"]

    notify(toml, database_url, NOW + LEASE_OVER)
    patient, therapist = practice.outbox(uid)
    assert (patient.state, patient.last_error) == (
        "uncertain",
        "interrupted while sending; the provider cannot tell",
    )
    assert therapist.state == "sent"
    assert sorted(r.to for r in smtp.received) == ["anne@cabinet-du-lac.example", "zoe@example.org"]
    notify(toml, database_url, NOW + 2 * LEASE_OVER)
    assert len(smtp.received) == 2


def test_an_sms_interrupted_after_delivery_is_found_at_twilio(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio)
    practice = open_practice(toml, database_url)
    uid = practice.book("2026-12-02 15:15", HANS).appointment.uid
    practice.run()  # the confirmations
    reminder_time = at("2026-12-01 15:15")
    killed_while_held(toml, database_url, reminder_time, twilio)
    (sms,) = twilio.messages
    (entry,) = [e for e in practice.outbox(uid) if e.channel == "sms"]
    assert (entry.state, entry.provider_id) == ("sending", None)

    notify(toml, database_url, reminder_time + LEASE_OVER)
    (entry,) = [e for e in practice.outbox(uid) if e.channel == "sms"]
    assert (entry.state, entry.provider_id) == ("sent", sms["sid"])
    assert (twilio.state.posts, len(twilio.messages)) == (1, 1)


def test_an_sms_refused_while_its_sender_died_is_sent_once_after_restart(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    """Twilio answers 503 to a sender that is killed before it reads the answer: the
    restart asks Twilio, finds no such message, and sends it (once)."""
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio)
    practice = open_practice(toml, database_url)
    uid = practice.book("2026-12-02 15:15", HANS).appointment.uid
    practice.run()
    twilio.fail_next(503, 20503, "Service Unavailable")
    reminder_time = at("2026-12-01 15:15")
    killed_while_held(toml, database_url, reminder_time, twilio)
    assert (twilio.state.posts, twilio.messages) == (1, [])
    (entry,) = [e for e in practice.outbox(uid) if e.channel == "sms"]
    assert entry.state == "sending"

    notify(toml, database_url, reminder_time + LEASE_OVER)
    (sms,) = twilio.messages
    (entry,) = [e for e in practice.outbox(uid) if e.channel == "sms"]
    assert (entry.state, entry.provider_id) == ("sent", sms["sid"])
    assert twilio.state.posts == 2


def future_slots(store: Store, toml: Path, count: int) -> list[tuple[str, datetime]]:
    """Free slots at least three days ahead of the real clock (no reminder is due)."""
    from caldav_bridge.config_loader import load_config

    config = load_config(toml)
    found: list[tuple[str, datetime]] = []
    first = date.today() + timedelta(days=3)
    for therapist in ("anne", "marc"):
        query = slot_query(config, "seance-75", therapist, first, 21)
        with store.read() as tx:
            slots = find_slots(tx, config, query, datetime.now().astimezone())
        found.extend((therapist, s.start) for s in slots[: count // 2])
    return found


def test_two_watch_processes_on_postgresql_send_every_message_once(
    practice_toml: Path, postgres_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio, sms_notices=True)
    assert run_cli("--config", str(toml), "init", env=cli_env(postgres_url)).returncode == 0
    practice = open_practice(toml, postgres_url)
    watchers = [
        subprocess.Popen(
            [CLI, "--config", str(toml), "watch", "--interval", "0.05"],
            env={**os.environ, **cli_env(postgres_url)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        slots = future_slots(practice.store, toml, 12)
        assert len(slots) == 12

        def book_one(n: int) -> None:
            therapist, start = slots[n]
            patient = ZOE if n % 2 else HANS
            who = PatientDetails(
                patient.first_name,
                f"{patient.last_name}{n}",
                f"p{n}@example.org",
                patient.phone,
                patient.language,
            )
            request = BookingRequest("seance-75", therapist, start, who, True)
            book(practice.store, practice.config, request, datetime.now().astimezone())

        threads = [threading.Thread(target=book_one, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        smtp.wait_for(24, timeout=60)
        twilio.wait_for(12, timeout=60)
    finally:  # SIGTERM: each watcher finishes its pass (recording what it sent), then exits
        for watcher in watchers:
            watcher.send_signal(signal.SIGTERM)
        for watcher in watchers:
            assert watcher.wait(30) == 0, watcher.stderr.read() if watcher.stderr else ""
            if watcher.stderr:
                watcher.stderr.close()
    assert {e.state for e in practice.outbox()} == {"sent"}
    ids = [r.message["Message-ID"] for r in smtp.received]
    assert len(ids) == len(set(ids)) == 24
    assert twilio.state.posts == len(twilio.messages) == 12
    assert len({m["to"] for m in twilio.messages}) == 2

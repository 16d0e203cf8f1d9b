"""The notification commands as an operator runs them: `caldav-bridge notify run-once`,
`caldav-bridge watch`, and `serve` with its watcher thread, end to end with the real `caldav`
client, a real SMTP server and the real twilio client on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import icalendar
import pytest
import requests
from caldav.davclient import DAVClient

from caldav_bridge.availability import find_slots, slot_query
from caldav_bridge.config_loader import load_config
from caldav_bridge.store import Store
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
from tests.support.serve import CLI, run_cli, serving
from tests.support.smtp import Received, SmtpServer
from tests.support.twilio_server import TwilioServer


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@pytest.fixture
def servers() -> Iterator[tuple[SmtpServer, TwilioServer]]:
    with SmtpServer() as smtp, TwilioServer() as twilio:
        yield smtp, twilio


def env(database_url: str) -> dict[str, str]:
    return {**ENVIRON, DATABASE_URL_ENV: database_url}


def run_once(toml: Path, database_url: str, now: datetime) -> str:
    done = run_cli(
        "--config", str(toml), "notify", "run-once", "--now", now.isoformat(), env=env(database_url)
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_run_once_at_24_hours_before_sends_one_sms_and_never_a_second(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio)
    practice = open_practice(toml, database_url)
    practice.book("2026-12-02 15:15", ZOE)
    practice.book("2026-12-03 15:15", HANS)
    first = run_once(toml, database_url, NOW)
    assert first == (
        "changes read: 2 (2 about appointments); messages enqueued: 4 notices, 0 reminders; "
        "delivered: 4 sent, 0 to retry, 0 failed, 0 uncertain, 0 skipped"
    )
    assert len(smtp.received) == 4
    reminder = run_once(toml, database_url, at("2026-12-01 15:15"))
    assert "1 reminders" in reminder
    assert "1 sent" in reminder
    (sms,) = twilio.messages
    assert sms["to"] == ZOE.phone
    assert sms["body"].startswith("Bonjour Zoë, rappel : rendez-vous le mer. 2 déc. à 15:15")
    again = run_once(toml, database_url, at("2026-12-01 15:20"))
    assert "0 reminders" in again
    assert len(twilio.messages) == 1


def test_without_smtp_and_twilio_the_demo_writes_each_message_to_a_file(
    practice_toml: Path, database_url: str
) -> None:
    practice = open_practice(practice_toml, database_url)
    practice.book("2026-12-02 15:15", ZOE)
    run_once(practice_toml, database_url, NOW)
    run_once(practice_toml, database_url, at("2026-12-01 15:15"))
    outbox = practice_toml.parent.parent / "var" / "outbox"
    files = sorted(p.name for p in outbox.iterdir())
    assert files == [
        "000001-booked_patient.eml",
        "000002-booked_therapist.eml",
        "000003-sms_reminder.txt",
    ]
    mail = message_from_bytes((outbox / files[0]).read_bytes(), policy=policy.default)
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == "zoe@example.org"
    assert mail["Subject"] == "Rendez-vous confirmé : mercredi, 2 décembre 2026 à 15:15"
    assert [p.get_content_type() for p in mail.walk()] == [
        "multipart/mixed",
        "multipart/alternative",
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    sms = (outbox / files[2]).read_text(encoding="utf-8")
    assert sms.startswith("To: +41791234567\n\nBonjour Zoë, rappel : rendez-vous le mer. 2 déc.")


def test_a_missing_twilio_token_stops_the_command_with_one_line(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    toml = configure(practice_toml, *servers)
    done = run_cli(
        "--config", str(toml), "notify", "run-once", env={DATABASE_URL_ENV: database_url}
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"caldav-bridge: configuration error: {toml}: twilio.auth_token_env: "
        "environment variable TWILIO_AUTH_TOKEN is not set"
    )


def slots_ahead(store: Store, toml: Path, count: int) -> list[datetime]:
    """Free slots of anne's, three days or more after the real clock (no reminder due)."""
    config = load_config(toml)
    query = slot_query(config, "seance-75", "anne", date.today() + timedelta(days=3), 21)
    with store.read() as tx:
        found = find_slots(tx, config, query, datetime.now().astimezone())
    return [slot.start for slot in found[:count]]


def moved_to(text: str, start: datetime) -> str:
    """The event in ``text`` moved to ``start``, its length kept, as a calendar app does."""
    parsed = icalendar.Calendar.from_ical(text)
    (vevent,) = parsed.walk("VEVENT")
    old_start, old_end = vevent.decoded("DTSTART"), vevent.decoded("DTEND")
    zone = old_start.tzinfo
    for name in ("DTSTART", "DTEND"):
        del vevent[name]
    vevent.add("dtstart", start.astimezone(zone))
    vevent.add("dtend", (start + (old_end - old_start)).astimezone(zone))
    return bytes(parsed.to_ical()).decode()


def manage_link(messages: list[Received], base_url: str) -> str:
    """The patient's manage link, on the served address (``public_url`` is the demo's)."""
    text = next(r for r in messages if r.to == "zoe@example.org").part("text/plain")
    link = next(word for word in text.split() if "/manage/" in word)
    return base_url + link[link.index("/manage/") :]


def test_end_to_end_with_serve_the_caldav_client_and_notify(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    """Book -> 2 emails; move in the calendar app -> 2; delete -> 2; then `notify run-once`
    at 24 h before another appointment -> 1 SMS, and again -> still 1."""
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio)
    init = run_cli("--config", str(toml), "init", "--demo", env=env(database_url))
    assert init.returncode == 0, init.stderr
    password = next(
        line.split(" / ")[1]
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: anne")
    )
    practice = open_practice(toml, database_url)
    practice.clock.set(datetime.now().astimezone())
    first, other, new_time = slots_ahead(practice.store, toml, 3)
    with serving(toml, env(database_url)) as base_url:
        uid = practice.book(first).appointment.uid
        confirmations = smtp.wait_for(2)
        assert {r.subject.split(" : ")[0] for r in confirmations} == {
            "Rendez-vous confirmé",
            "Nouveau rendez-vous",
        }
        first_link = manage_link(confirmations, base_url)
        assert requests.get(first_link, timeout=10).status_code == 200
        with DAVClient(url=base_url + "/", username="anne", password=password) as client:
            (calendar,) = client.principal().calendars()  # type: ignore[no-untyped-call]
            event = calendar.get_event_by_uid(uid)
            event.data = moved_to(event.data, new_time)
            event.save()
            moved = smtp.wait_for(4)[2:]
            assert {r.subject.split(" : ")[0] for r in moved} == {"Rendez-vous modifié"}
            body = next(r for r in moved if r.to == "zoe@example.org").part("text/plain")
            assert "modifié par Anne Rochat" in body
            assert "Ancien horaire" in body
            assert requests.get(first_link, timeout=10).status_code == 410  # "it changed"
            assert requests.get(manage_link(moved, base_url), timeout=10).status_code == 200
            calendar.get_event_by_uid(uid).delete()
            cancelled = smtp.wait_for(6)[4:]
            assert {r.subject.split(" : ")[0] for r in cancelled} == {"Rendez-vous annulé"}

        practice.book(other, HANS)
        smtp.wait_for(8)
        run_once(toml, database_url, other - timedelta(hours=24))
        run_once(toml, database_url, other - timedelta(hours=23))
    (sms,) = twilio.messages
    assert sms["to"] == HANS.phone
    assert len(smtp.received) == 8


def test_watch_runs_passes_until_terminated(
    practice_toml: Path, database_url: str, servers: tuple[SmtpServer, TwilioServer]
) -> None:
    smtp, twilio = servers
    toml = configure(practice_toml, smtp, twilio)
    practice = open_practice(toml, database_url)
    practice.clock.set(datetime.now().astimezone())
    (start,) = slots_ahead(practice.store, toml, 1)
    process = subprocess.Popen(
        [CLI, "--config", str(toml), "watch", "--interval", "0.1"],
        env={**os.environ, **env(database_url)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        practice.book(start)
        assert len(smtp.wait_for(2)) == 2
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(30)
        log = process.stderr.read() if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    assert code == 0, log
    assert "caldav-bridge watching Cabinet du Lac" in log
    assert "zoe" not in log.lower()  # no patient data in the process's log

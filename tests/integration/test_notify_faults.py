"""Faults around notifications, on SQLite and PostgreSQL: servers down, refusals, rollbacks,
two watchers at once. Time is the test's clock: retries are passes at later instants."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from caldav_bridge.store import Span
from tests.support.notify import (
    HANS,
    NOW,
    ZOE,
    Clock,
    Practice,
    at,
    close_practices,
    configure,
    open_practice,
)
from tests.support.smtp import SmtpServer
from tests.support.twilio_server import TwilioServer

THERAPIST = "anne@cabinet-du-lac.example"


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


def practice_with(
    toml: Path, url: str, smtp: SmtpServer, twilio: TwilioServer, **settings: object
) -> Practice:
    return open_practice(configure(toml, smtp, twilio, **settings), url)


def test_smtp_down_for_a_while_then_back(
    practice_toml: Path, database_url: str, twilio: TwilioServer
) -> None:
    smtp = SmtpServer()  # not started: nothing listens on its port
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    practice.book("2026-12-02 15:15")
    first = practice.run()
    assert (first.delivery.retried, first.delivery.sent) == (2, 0)
    log = practice.outbox()
    assert [(e.state, e.attempts) for e in log] == [("pending", 1), ("pending", 1)]
    assert all("SMTP server unreachable" in (e.last_error or "") for e in log)
    assert practice.run(practice.later(seconds=10)).delivery.handled == 0  # backing off
    assert practice.run(practice.later(seconds=25)).delivery.retried == 2  # 35 s: 2nd try
    with smtp:
        assert practice.run(practice.later(minutes=2)).delivery.sent == 2
        received = smtp.received
    assert sorted(r.to for r in received) == [THERAPIST, "zoe@example.org"]
    assert [(e.state, e.attempts, e.last_error) for e in practice.outbox()] == [
        ("sent", 3, None),
        ("sent", 3, None),
    ]


def test_an_smtp_server_saying_try_later_is_retried(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    smtp.refuse("zoe@example.org", "451 4.3.0 Mailbox temporarily unavailable")
    practice.book("2026-12-02 15:15")
    practice.run()
    (patient,) = [e for e in practice.outbox() if e.recipient == "zoe@example.org"]
    assert (patient.state, patient.last_error) == (
        "pending",
        "SMTP 451 4.3.0 Mailbox temporarily unavailable",
    )
    smtp.handler.refused.clear()
    practice.run(practice.later(minutes=1))
    assert [r.to for r in smtp.received] == [THERAPIST, "zoe@example.org"]


def test_a_bounce_is_a_visible_permanent_failure_logged_without_patient_data(
    practice_toml: Path,
    database_url: str,
    smtp: SmtpServer,
    twilio: TwilioServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    smtp.refuse("zoe@example.org", "550 5.1.1 <zoe@example.org>: Recipient address rejected")
    uid = practice.book("2026-12-02 15:15").appointment.uid
    with caplog.at_level(logging.INFO, logger="caldav_bridge"):
        practice.run()
    patient, therapist = practice.outbox(uid)[:2]
    assert (patient.state, therapist.state) == ("failed", "sent")
    assert patient.last_error == "SMTP 550 5.1.1 <zoe@example.org>: Recipient address rejected"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"outbox {patient.id}: delivery failed permanently (smtp 550)"
    ]
    assert "zoe" not in caplog.text.lower()
    assert "müller" not in caplog.text.lower()
    assert practice.run(practice.later(hours=2)).delivery.handled == 0  # never retried
    assert [r.to for r in smtp.received] == [THERAPIST]


def test_twilio_answering_500_then_201(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    practice.book("2026-12-02 15:15")
    practice.run()
    twilio.fail_next(500, 20500, "Internal Server Error")
    twilio.fail_next(429, 20429, "Too Many Requests")
    practice.run(at("2026-12-01 15:15"))  # 24 h before: the reminder
    (reminder,) = [e for e in practice.outbox() if e.channel == "sms"]
    assert (reminder.state, reminder.attempts) == ("pending", 1)
    assert reminder.last_error == "Twilio 500 20500: Unable to create record: Internal Server Error"
    practice.run(practice.later(seconds=31))
    practice.run(practice.later(seconds=61))
    (sms,) = twilio.messages
    assert twilio.state.posts == 3
    (reminder,) = [e for e in practice.outbox() if e.channel == "sms"]
    assert (reminder.state, reminder.attempts, reminder.provider_id) == ("sent", 3, sms["sid"])


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (21614, "'To' number is not a valid mobile number"),  # a landline
        (21211, "Invalid 'To' Phone Number"),
        (21610, "Attempt to send to unsubscribed recipient"),
    ],
)
def test_an_sms_that_can_never_arrive_is_a_visible_permanent_failure(
    practice_toml: Path,
    database_url: str,
    smtp: SmtpServer,
    twilio: TwilioServer,
    code: int,
    message: str,
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    twilio.refuse(HANS.phone or "", code, message)
    uid = practice.book("2026-12-02 15:15", HANS).appointment.uid
    practice.run(at("2026-12-01 15:15"))
    (sms,) = [e for e in practice.outbox(uid) if e.channel == "sms"]
    assert (sms.state, sms.last_error) == (
        "failed",
        f"Twilio 400 {code}: Unable to create record: {message}",
    )
    assert practice.run(practice.later(hours=1)).delivery.handled == 0
    assert twilio.state.posts == 1


def test_a_change_that_rolled_back_notifies_nobody(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    """A booking that fails after writing its event and row leaves nothing to notify, and
    the watcher goes on past it (on PostgreSQL its seq is a gap for ever)."""
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    booked = practice.book("2026-12-02 15:15").appointment
    with practice.store.read() as tx:
        item = tx.item(booked.collection_path, booked.href)
    assert item is not None
    ghost = replace(booked, uid="ghost", href="ghost.ics", start_at=at("2026-12-02 16:30"))
    span = Span("ghost", "VEVENT", ghost.start_at, ghost.start_at + timedelta(minutes=75))

    def failing_booking() -> None:
        with practice.store.write("anne") as tx:
            text = item.text.replace(booked.uid, "ghost")
            tx.put_item(ghost.collection_path, ghost.href, text, span, "patient")
            tx.add_appointment(ghost)
            raise RuntimeError("the booking failed after writing")

    with pytest.raises(RuntimeError):
        failing_booking()
    second = practice.book("2026-12-02 16:30", HANS).appointment
    report = practice.run()
    assert report.intake.changes == 2
    assert sorted(r.to for r in smtp.received) == [
        THERAPIST,
        THERAPIST,
        "hans@example.org",
        "zoe@example.org",
    ]
    assert {e.appointment_uid for e in practice.outbox()} == {booked.uid, second.uid}


def test_two_watchers_at_once_send_every_message_once(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    """Two watchers (threads, each with its own connections) over one database."""
    configure(practice_toml, smtp, twilio, sms_notices=True)
    clock = Clock()
    practices = [open_practice(practice_toml, database_url, clock) for _ in range(2)]
    bookings = [
        ("anne", "2026-12-02 14:00"),
        ("anne", "2026-12-02 15:15"),
        ("anne", "2026-12-02 16:30"),
        ("anne", "2026-12-03 08:00"),
        ("marc", "2026-12-02 13:30"),
        ("marc", "2026-12-02 14:45"),
    ]
    for n, (therapist, start) in enumerate(bookings):
        practices[0].book(start, ZOE if n % 2 else HANS, therapist=therapist)
    expected_emails, expected_sms = 2 * len(bookings), len(bookings)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def watch(practice: Practice) -> None:
        try:
            barrier.wait(10)
            for _ in range(20):
                practice.watcher.run_once(NOW)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=watch, args=(p,)) for p in practices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    received = smtp.wait_for(expected_emails)
    ids = [r.message["Message-ID"] for r in received]
    assert len(ids) == len(set(ids)) == expected_emails
    assert len(twilio.messages) == twilio.state.posts == expected_sms
    assert {e.state for e in practices[0].outbox()} == {"sent"}


def test_a_notice_for_a_past_appointment_is_not_sent(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    practice.book("2026-12-02 15:15")
    practice.run(at("2026-12-03 08:00"))  # the watcher was down until after the appointment
    assert smtp.received == []
    assert practice.outbox() == []


def test_a_reminder_for_a_cancelled_appointment_is_not_sent(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    from caldav_bridge.booking import cancel

    practice = practice_with(practice_toml, database_url, smtp, twilio)
    twilio.fail_next(503, 20503, "Service Unavailable")
    uid = practice.book("2026-12-02 15:15").appointment.uid
    practice.run(at("2026-12-01 15:15"))  # the reminder waits for a retry
    cancel(practice.store, practice.config, uid, 1, NOW, "anne", enforce_cutoff=False)
    practice.run(practice.later(minutes=1))
    (reminder,) = [e for e in practice.outbox(uid) if e.channel == "sms"]
    assert (reminder.state, reminder.last_error) == ("void", "appointment cancelled")
    assert twilio.messages == []


def test_settings_turn_reminders_off_and_email_reminders_on(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    practice = practice_with(
        practice_toml, database_url, smtp, twilio, sms_reminders=False, email_reminders=True
    )
    practice.book("2026-12-02 15:15")
    practice.run()
    practice.run(at("2026-12-01 15:15"))
    assert twilio.messages == []
    reminder = smtp.to("zoe@example.org")[-1]
    assert reminder.subject == "Rappel : rendez-vous le mercredi, 2 décembre 2026 à 15:15"
    practice.run(practice.later(minutes=1))
    assert len(smtp.to("zoe@example.org")) == 2


@pytest.mark.parametrize("lead", [48, 72])
def test_the_reminder_lead_is_a_practice_setting(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer, lead: int
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio, reminder_lead_hours=lead)
    practice.book("2026-12-04 09:15", therapist="anne")
    practice.run(at("2026-12-04 09:15") - timedelta(hours=lead, minutes=1))
    assert twilio.messages == []
    practice.run(at("2026-12-04 09:15") - timedelta(hours=lead))
    assert len(twilio.messages) == 1


def test_a_change_committed_late_with_an_older_seq_is_not_skipped(
    practice_toml: Path, postgres_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    """PostgreSQL numbers changes when they are written, not when they commit: anne's slow
    write gets the older seq but commits after marc's booking. The watcher must wait for it
    rather than move its cursor past it."""
    practice = practice_with(practice_toml, postgres_url, smtp, twilio)
    template = practice.book("2026-12-02 15:15").appointment
    practice.run()
    with practice.store.read() as tx:
        item = tx.item(template.collection_path, template.href)
    assert item is not None
    written, commit = threading.Event(), threading.Event()
    slow = replace(template, uid="slow", href="slow.ics", start_at=at("2026-12-02 16:30"))

    def slow_write() -> None:
        with practice.store.write("anne") as tx:
            span = Span("slow", "VEVENT", slow.start_at, slow.start_at + timedelta(minutes=75))
            text = item.text.replace(template.uid, "slow").replace("T151500", "T163000")
            tx.put_item(slow.collection_path, slow.href, text, span, "anne")
            tx.add_appointment(slow)
            written.set()
            assert commit.wait(30)

    writer = threading.Thread(target=slow_write)
    writer.start()
    assert written.wait(30)
    fast = practice.book("2026-12-02 13:30", HANS, therapist="marc").appointment
    waiting = practice.run()  # marc's change is visible, anne's older one not yet
    assert (waiting.intake.changes, waiting.delivery.handled) == (0, 0)
    commit.set()
    writer.join(30)
    done = practice.run()
    assert done.intake.changes == 2
    uids = [e.appointment_uid for e in practice.outbox()]
    assert uids.count("slow") == 2
    assert uids.count(fast.uid) == 2
    assert len(smtp.received) == 6


def test_booked_inside_the_lead_time_reminded_at_once_unless_within_two_hours(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    practice = practice_with(practice_toml, database_url, smtp, twilio)
    practice.book("2026-11-30 14:00", ZOE)  # today, six hours ahead
    practice.book("2026-11-30 10:30", HANS)  # two and a half hours ahead
    practice.run(at("2026-11-30 08:31"))  # the watcher was busy: 10:30 is now 1 h 59 away
    (sms,) = twilio.messages
    assert sms["to"] == ZOE.phone
    assert sms["body"].startswith("Bonjour Zoë, rappel : rendez-vous le lun. 30 nov. à 14:00")

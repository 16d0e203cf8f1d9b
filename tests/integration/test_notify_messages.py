"""Every notice of a booking's life, as patient and therapist receive them: a real SMTP server
on loopback, the real twilio client against a loopback Messages API, SQLite and PostgreSQL.

The watcher is the one `serve` builds; the clock is the test's (no waiting on real time).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest

from caldav_bridge.booking import cancel, reschedule
from caldav_bridge.manage_links import read_manage_token
from tests.support.notify import (
    HANS,
    NOW,
    SECRET,
    ZOE,
    Practice,
    at,
    close_practices,
    configure,
    open_practice,
)
from tests.support.smtp import Received, SmtpServer
from tests.support.twilio_server import TwilioServer

THERAPIST = "anne@cabinet-du-lac.example"


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def practice(
    practice_toml: Path, database_url: str, smtp: SmtpServer, twilio: TwilioServer
) -> Practice:
    return open_practice(configure(practice_toml, smtp, twilio, sms_notices=True), database_url)


def lines(message: Received) -> list[str]:
    return message.part("text/plain").splitlines()


def manage_target(message: Received) -> tuple[str, int]:
    link = next(line for line in lines(message) if "/manage/" in line).split()[-1]
    target = read_manage_token(SECRET, link.rsplit("/", 1)[1], timedelta(days=200))
    return target.uid, target.version


def test_a_booking_confirms_by_email_to_both_and_by_sms(
    practice: Practice, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    booking = practice.book("2026-12-02 15:15", HANS)  # a German-speaking patient
    practice.run()
    patient, therapist = smtp.to("hans@example.org"), smtp.to(THERAPIST)
    assert (len(patient), len(therapist), len(smtp.received)) == (1, 1, 2)
    (mail,) = patient
    assert mail.subject == "Termin bestätigt: Mittwoch, 2. Dezember 2026, 15:15 Uhr"
    assert mail.message["From"] == "Cabinet du Lac <rendez-vous@cabinet-du-lac.example>"
    assert mail.message["Reply-To"] == "contact@cabinet-du-lac.example"
    assert mail.message.get_content_type() == "multipart/mixed"
    for line in (
        "Zeit: 15:15–16:30 (75 Min.)",
        "Ort: Avenue de Rhodanie 58, 1007 Lausanne",
        "Leistung: Sitzung (75 Min.)",
        "Therapeut/in: Anne Rochat",
    ):
        assert line in lines(mail)
    assert manage_target(mail) == (booking.appointment.uid, 1)
    assert "Sitzung (75 Min.)" in mail.part("text/html")
    (event,) = icalendar.Calendar.from_ical(mail.part("text/calendar")).walk("VEVENT")
    assert event.decoded("DTSTART") == at("2026-12-02 15:15")
    (notice,) = therapist
    assert notice.subject == "Nouveau rendez-vous : Hans Keller, mercredi, 2 décembre 2026 à 15:15"
    assert "Hans Keller a réservé en ligne un rendez-vous avec vous :" in lines(notice)
    (sms,) = twilio.messages
    assert sms["to"] == "+41797654321"
    assert sms["body"].startswith(
        "Guten Tag Hans, Ihr Termin am Mi. 2 Dez. um 15:15 Uhr bei Cabinet du Lac ist bestätigt."
    )
    entries = practice.outbox(booking.appointment.uid)
    assert [e.state for e in entries] == ["sent", "sent", "sent"]
    assert [e.provider_id for e in entries if e.channel == "sms"] == [sms["sid"]]


def test_a_reschedule_by_the_patient_tells_old_and_new_time(
    practice: Practice, smtp: SmtpServer
) -> None:
    booking = practice.book("2026-12-02 15:15")
    practice.run()
    moved = reschedule(
        practice.store,
        practice.config,
        booking.appointment.uid,
        1,
        at("2026-12-03 09:15"),
        NOW,
        "patient",
        enforce_cutoff=True,
    )
    practice.run()
    patient = smtp.to("zoe@example.org")[-1]
    assert patient.subject == "Rendez-vous modifié : jeudi, 3 décembre 2026 à 09:15"
    assert "votre rendez-vous a été modifié par vous-même." in lines(patient)
    assert "Ancien horaire : mercredi, 2 décembre 2026, 15:15 – 16:30" in lines(patient)
    assert "Nouvel horaire : jeudi, 3 décembre 2026, 09:15 – 10:30" in lines(patient)
    assert manage_target(patient) == (booking.appointment.uid, moved.version)  # a fresh link
    therapist = smtp.to(THERAPIST)[-1]
    assert "modifié par Zoë Müller (en ligne)." in therapist.part("text/plain")
    assert len(smtp.received) == 4


def test_a_cancellation_by_the_patient_notifies_both(practice: Practice, smtp: SmtpServer) -> None:
    booking = practice.book("2026-12-02 15:15")
    cancel(
        practice.store,
        practice.config,
        booking.appointment.uid,
        1,
        NOW,
        "patient",
        enforce_cutoff=True,
    )
    practice.run()
    subjects = sorted(r.subject for r in smtp.received)
    assert subjects == [
        "Nouveau rendez-vous : Zoë Müller, mercredi, 2 décembre 2026 à 15:15",
        "Rendez-vous annulé : Zoë Müller, mercredi, 2 décembre 2026 à 15:15",
        "Rendez-vous annulé : mercredi, 2 décembre 2026 à 15:15",
        "Rendez-vous confirmé : mercredi, 2 décembre 2026 à 15:15",
    ]
    cancelled = smtp.to("zoe@example.org")[-1]
    assert "votre rendez-vous a été annulé par vous-même :" in lines(cancelled)
    (event,) = icalendar.Calendar.from_ical(cancelled.part("text/calendar")).walk("VEVENT")
    assert str(event["STATUS"]) == "CANCELLED"


def test_an_appointment_the_therapist_creates_is_confirmed_to_the_patient(
    practice: Practice, smtp: SmtpServer
) -> None:
    practice.book("2026-12-02 15:15", ZOE, actor="anne")
    practice.run()
    (patient,) = smtp.to("zoe@example.org")
    assert "Anne Rochat a pris pour vous ce rendez-vous :" in lines(patient)
    (therapist,) = smtp.to(THERAPIST)
    assert "Anne Rochat a créé un rendez-vous pour Zoë Müller :" in lines(therapist)


def test_a_second_pass_sends_nothing_again(
    practice: Practice, smtp: SmtpServer, twilio: TwilioServer
) -> None:
    practice.book("2026-12-02 15:15")
    practice.run()
    report = practice.run(practice.later(minutes=5))
    assert (report.intake.changes, report.delivery.handled) == (0, 0)
    assert (len(smtp.received), len(twilio.messages)) == (2, 1)


def test_the_delivery_log_lists_each_message_of_an_appointment(
    practice: Practice, smtp: SmtpServer
) -> None:
    first = practice.book("2026-12-02 15:15")
    practice.book("2026-12-02 16:30", HANS)
    practice.run()
    log = practice.outbox(first.appointment.uid)
    assert [(e.channel, e.template, e.recipient, e.state) for e in log] == [
        ("email", "booked_patient", "zoe@example.org", "sent"),
        ("email", "booked_therapist", THERAPIST, "sent"),
        ("sms", "sms_booked", "+41791234567", "sent"),
    ]
    assert all(e.sent_at == NOW for e in log)
    assert len(practice.outbox()) == 6

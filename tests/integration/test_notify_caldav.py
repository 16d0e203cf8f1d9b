"""A therapist moves, edits and deletes appointments in a calendar app: the real `caldav`
client against the real server, the watcher, a real SMTP server, SQLite and PostgreSQL.

The appointment row follows its event (new time, cancelled; version bumped so the older
manage link says it changed); patient and therapist are told what changed and who changed it.
Events that are not appointments, and edits a patient would not notice, send nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from caldav.calendarobjectresource import CalendarObjectResource
from caldav.collection import Calendar
from caldav.davclient import DAVClient

from caldav_bridge.manage_links import read_manage_token
from tests.support.dav import DavServer, dav_server
from tests.support.notify import SECRET, Practice, at, close_practices, configure, open_practice
from tests.support.smtp import Received, SmtpServer
from tests.support.twilio_server import TwilioServer

THERAPIST = "anne@cabinet-du-lac.example"
PATIENT = "zoe@example.org"


@pytest.fixture(autouse=True)
def _closed_stores() -> Iterator[None]:
    yield
    close_practices()


@dataclass
class Scene:
    dav: DavServer
    practice: Practice
    smtp: SmtpServer
    twilio: TwilioServer
    calendar: Calendar

    def event(self, uid: str) -> CalendarObjectResource:
        found = self.calendar.get_event_by_uid(uid)
        assert isinstance(found, CalendarObjectResource)
        return found

    def edit(self, uid: str, *replacements: tuple[str, str]) -> None:
        """Change the event's text as a calendar app would, and PUT it back."""
        found = self.event(uid)
        text = found.data
        for old, new in replacements:
            assert old in text, old
            text = text.replace(old, new)
        found.data = text
        found.save()


@pytest.fixture
def scene(practice_toml: Path, database_url: str) -> Iterator[Scene]:
    with SmtpServer() as smtp, TwilioServer() as twilio:
        configure(practice_toml, smtp, twilio)
        with dav_server(practice_toml, database_url) as dav:
            practice = open_practice(practice_toml, database_url)
            client = DAVClient(
                url=dav.base_url + "/", username="anne", password=dav.passwords["anne"]
            )
            with client:
                (calendar,) = client.principal().calendars()  # type: ignore[no-untyped-call]
                yield Scene(dav, practice, smtp, twilio, calendar)


def text(message: Received) -> list[str]:
    return message.part("text/plain").splitlines()


def link_version(message: Received) -> int:
    link = next(line for line in text(message) if "/manage/" in line).split()[-1]
    return read_manage_token(SECRET, link.rsplit("/", 1)[1], timedelta(days=200)).version


def test_moved_then_deleted_in_the_calendar_app(scene: Scene) -> None:
    practice, smtp = scene.practice, scene.smtp
    uid = practice.book("2026-12-02 15:15").appointment.uid
    practice.run()
    assert len(smtp.received) == 2  # the confirmation to each

    scene.edit(
        uid,
        (
            "DTSTART;TZID=Europe/Zurich:20261202T151500",
            "DTSTART;TZID=Europe/Zurich:20261204T081500",
        ),
        ("DTEND;TZID=Europe/Zurich:20261202T163000", "DTEND;TZID=Europe/Zurich:20261204T093000"),
    )
    practice.run()
    patient, therapist = smtp.to(PATIENT)[-1], smtp.to(THERAPIST)[-1]
    assert patient.subject == "Rendez-vous modifié : vendredi, 4 décembre 2026 à 08:15"
    assert "votre rendez-vous a été modifié par Anne Rochat." in text(patient)
    assert "Ancien horaire : mercredi, 2 décembre 2026, 15:15 – 16:30" in text(patient)
    assert "Nouvel horaire : vendredi, 4 décembre 2026, 08:15 – 09:30" in text(patient)
    assert "Nouvel horaire : vendredi, 4 décembre 2026, 08:15 – 09:30" in text(therapist)
    with practice.store.read() as tx:
        row = tx.appointment(uid)
    assert row is not None
    assert (row.start_at, row.end_at, row.status, row.version) == (
        at("2026-12-04 08:15"),
        at("2026-12-04 09:30"),
        "confirmed",
        2,
    )
    assert link_version(patient) == 2  # the link of the first email (version 1) is outdated

    scene.event(uid).delete()
    practice.run()
    cancelled = smtp.to(PATIENT)[-1]
    assert cancelled.subject == "Rendez-vous annulé : vendredi, 4 décembre 2026 à 08:15"
    assert "votre rendez-vous a été annulé par Anne Rochat :" in text(cancelled)
    assert smtp.to(THERAPIST)[-1].subject.startswith("Rendez-vous annulé : Zoë Müller")
    assert len(smtp.received) == 6
    with practice.store.read() as tx:
        row = tx.appointment(uid)
    assert row is not None
    assert (row.status, row.version) == ("cancelled", 3)


def test_a_reminder_follows_a_move_made_in_the_calendar_app(scene: Scene) -> None:
    practice = scene.practice
    uid = practice.book("2026-12-02 15:15").appointment.uid
    practice.run()
    scene.edit(
        uid,
        (
            "DTSTART;TZID=Europe/Zurich:20261202T151500",
            "DTSTART;TZID=Europe/Zurich:20261203T150000",
        ),
        ("DTEND;TZID=Europe/Zurich:20261202T163000", "DTEND;TZID=Europe/Zurich:20261203T161500"),
    )
    practice.run()
    practice.run(at("2026-12-01 15:15"))  # 24 h before the old time
    assert scene.twilio.messages == []
    practice.run(at("2026-12-02 15:00"))  # 24 h before the new time
    (sms,) = scene.twilio.messages
    assert "le jeu. 3 déc. à 15:00" in sms["body"]


def test_status_cancelled_from_the_app_is_a_cancellation(scene: Scene) -> None:
    practice, smtp = scene.practice, scene.smtp
    uid = practice.book("2026-12-02 15:15").appointment.uid
    practice.run()
    scene.edit(uid, ("STATUS:CONFIRMED", "STATUS:CANCELLED"))
    practice.run()
    assert smtp.to(PATIENT)[-1].subject == "Rendez-vous annulé : mercredi, 2 décembre 2026 à 15:15"
    with practice.store.read() as tx:
        row = tx.appointment(uid)
    assert row is not None
    assert row.status == "cancelled"


def test_a_new_place_is_told_and_notes_are_not(scene: Scene) -> None:
    practice, smtp = scene.practice, scene.smtp
    uid = practice.book("2026-12-02 15:15").appointment.uid
    practice.run()
    scene.edit(uid, ("DESCRIPTION:", "DESCRIPTION:Apporter les radiographies\\n"))
    scene.edit(uid, ("SUMMARY:", "SUMMARY:(1re séance) "))
    report = practice.run()
    assert report.intake.changes == 2
    assert len(smtp.received) == 2  # only the confirmations
    scene.edit(
        uid,
        ("LOCATION:Avenue de Rhodanie 58\\, 1007 Lausanne", "LOCATION:Salle 2\\, Rue du Port 1"),
    )
    practice.run()
    patient = smtp.to(PATIENT)[-1]
    assert "Nouveau lieu : Salle 2, Rue du Port 1" in text(patient)
    assert "Ancien lieu : Avenue de Rhodanie 58, 1007 Lausanne" in text(patient)
    assert len(smtp.received) == 4


def test_the_therapists_own_events_send_nothing(scene: Scene) -> None:
    practice, smtp = scene.practice, scene.smtp
    own = scene.calendar.save_event(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Apple Inc.//macOS 15.0//EN\r\n"
        "BEGIN:VEVENT\r\nUID:supervision-1\r\nDTSTAMP:20261101T081500Z\r\n"
        "DTSTART;TZID=Europe/Zurich:20261202T080000\r\n"
        "DTEND;TZID=Europe/Zurich:20261202T090000\r\nSUMMARY:Supervision\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    assert isinstance(own, CalendarObjectResource)
    own.data = own.data.replace("T080000", "T100000").replace("T090000", "T110000")
    own.save()
    own.delete()
    report = practice.run()
    assert (report.intake.changes, report.intake.appointment_changes) == (3, 0)
    assert smtp.received == []
    assert practice.outbox() == []


def test_importing_500_events_from_a_calendar_app_sends_nothing(scene: Scene) -> None:
    practice, dav = scene.practice, scene.dav
    uid = practice.book("2026-12-02 15:15").appointment.uid
    practice.run()
    session = requests.Session()
    session.auth = dav.auth()

    def put(n: int) -> int:
        day = 1 + n % 28
        body = (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
            "PRODID:-//Mozilla.org/NONSGML Mozilla Calendar//EN\r\n"
            f"BEGIN:VEVENT\r\nUID:import-{n}\r\nDTSTAMP:20261101T081500Z\r\n"
            f"DTSTART:202701{day:02d}T{7 + n % 10:02d}0000Z\r\n"
            f"DTEND:202701{day:02d}T{7 + n % 10:02d}3000Z\r\nSUMMARY:Imported {n}\r\n"
            "END:VEVENT\r\nEND:VCALENDAR\r\n"
        )
        url = f"{dav.dav_url}anne/appointments/import-{n}.ics"
        headers = {"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"}
        return session.put(url, data=body.encode(), headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(put, range(500)))
    assert statuses == [201] * 500
    report = practice.run()
    assert (report.intake.changes, report.intake.appointment_changes) == (500, 0)
    assert len(scene.smtp.received) == 2  # still only the booking's confirmations
    assert {e.appointment_uid for e in practice.outbox()} == {uid}

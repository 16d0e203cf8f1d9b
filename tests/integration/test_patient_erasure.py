"""Erasing a patient from the admin panel, on SQLite and PostgreSQL, with the real CalDAV
server, the real watcher, SMTP and Twilio servers on loopback:

- the confirmation page says what will be erased; the POST needs the CSRF token and the box;
- afterwards no table holds her name, email or phone (every text column of every table);
- calendar apps fetch the redacted events through their sync token; times stay; the other
  patients' events are untouched;
- the watcher sends nothing because of the redaction;
- refused, with the appointments listed, while she has appointments to come;
- refused when the record changed since the page was opened;
- nothing identifying is logged at INFO on the way.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caldav_bridge.booking import cancel
from caldav_bridge.patient_erasure import erasure_plan
from caldav_bridge.store import Appointment
from caldav_bridge.store.therapist_views import PatientChanges
from tests.integration.test_admin_support import submit
from tests.support.notify import Practice, at
from tests.support.patient_scene import (
    HANS,
    ZOE,
    PatientScene,
    patient_scene,
    traces_of,
)
from tests.support.web import configure, element, hidden_fields, location, text_of

TEST_SERVERS = {"mail"}  # aiosmtpd (the test's SMTP server) logs what it receives
NOTE = "Zoë Quenneville a rappelé, son numéro : 079 111 22 33"


@dataclass
class Scene:
    scene: PatientScene
    calendar: Calendar  # anne's, as her calendar app sees it

    @property
    def practice(self) -> Practice:
        return self.scene.practice


@pytest.fixture
def world(practice_toml: Path, database_url: str) -> Iterator[Scene]:
    configure(practice_toml, privacy='"full_name"')  # her whole name in the calendars
    with patient_scene(practice_toml, database_url, caldav=True) as scene:
        assert scene.dav is not None
        client = DAVClient(
            url=scene.dav.base_url + "/", username="anne", password=scene.dav.passwords["anne"]
        )
        with client:
            (calendar,) = client.principal().calendars()  # type: ignore[no-untyped-call]
            yield Scene(scene, calendar)


@dataclass(frozen=True)
class History:
    seen: Appointment  # with anne, 2 December, past when erasing; edited in Apple Calendar
    with_marc: Appointment  # past when erasing
    cancelled: Appointment  # was to be on 9 December, cancelled
    hans: Appointment  # another patient's, with anne


def history(world: Scene) -> History:
    """Zoë saw Anne and Marc, cancelled a third appointment; Anne noted a call in her
    calendar app; then the week passed (now: Saturday 5 December)."""
    practice = world.practice
    seen = practice.book("2026-12-02 14:00", ZOE).appointment
    with_marc = practice.book("2026-12-03 09:00", ZOE, therapist="marc").appointment
    gone = practice.book("2026-12-09 14:00", ZOE).appointment
    hans = practice.book("2026-12-02 15:15", HANS).appointment
    cancelled = cancel(
        practice.store, practice.config, gone.uid, 1, practice.clock(), "anne", enforce_cutoff=False
    )
    practice.run_until_quiet()
    note_in_calendar_app(world.calendar, seen.uid)
    practice.run_until_quiet(at("2026-12-01 15:00"))  # Zoë's SMS reminder goes out
    practice.run_until_quiet(at("2026-12-05 08:00"))
    return History(seen, with_marc, cancelled, hans)


def note_in_calendar_app(calendar: Calendar, uid: str) -> None:
    """The therapist writes a note into the event and adds Zoë as attendee, as Apple
    Calendar does (with an alarm that repeats the title)."""
    event = calendar.get_event_by_uid(uid)
    parsed = icalendar.Calendar.from_ical(event.data)
    vevent = parsed.events[0]
    vevent.pop("DESCRIPTION")
    vevent.add("DESCRIPTION", NOTE)
    attendee = icalendar.vCalAddress("mailto:zoe.quenneville@example.org")
    attendee.params["CN"] = "Zoë Quenneville"
    vevent.add("ATTENDEE", attendee)
    alarm = icalendar.Alarm()
    alarm.add("ACTION", "DISPLAY")
    alarm.add("TRIGGER", timedelta(minutes=-15))
    alarm.add("DESCRIPTION", str(vevent["SUMMARY"]))
    vevent.add_component(alarm)
    event.data = parsed.to_ical().decode()
    event.save()


def erase_page(client: FlaskClient, patient_id: int) -> TestResponse:
    return client.get(f"/admin/patients/{patient_id}/erase")


def test_erasure_leaves_no_trace_and_calendar_apps_get_the_redacted_events(world: Scene) -> None:
    scene, practice = world.scene, world.practice
    past = history(world)
    zoe = scene.patient_id(past.seen.uid)
    assert traces_of(scene.store)  # she is everywhere before
    mails, sms = len(scene.smtp.received), len(scene.twilio.messages)
    assert (mails, sms) == (10, 1)  # 4 bookings and 1 cancellation x 2; her reminder
    synced = world.calendar.objects_by_sync_token(load_objects=True)
    before = {str(o.icalendar_component["UID"]): o for o in synced}

    admin = scene.admin()
    page = erase_page(admin, zoe)
    assert element(page, "erase-appointments").startswith("3 rendez-vous gardent")
    assert element(page, "erase-events").startswith("2 événements")
    answer = submit(admin, page, f"/admin/patients/{zoe}/erase", {"confirm": "yes"})
    assert location(answer) == "/admin/patients"
    assert "Les données du patient ont été effacées." in text_of(admin.get("/admin/patients"))

    assert traces_of(scene.store) == []
    with scene.store.read() as tx:
        assert tx.patient(zoe) is None
        rows = [tx.appointment(a.uid) for a in (past.seen, past.with_marc, past.cancelled)]
    assert [(r.patient_id, r.message, r.status) for r in rows if r] == [
        (None, "", "confirmed"),
        (None, "", "confirmed"),
        (None, "", "cancelled"),
    ]

    updated, deleted = synced.sync()
    assert [str(o.icalendar_component["UID"]) for o in updated] == [past.seen.uid]
    assert list(deleted) == []
    event = updated[0].icalendar_component
    old = before[past.seen.uid].icalendar_component
    assert str(event["SUMMARY"]) == "Séance (75 min)"
    assert (event.start, event.end) == (old.start, old.end)
    assert "DESCRIPTION" not in event
    assert "ATTENDEE" not in event
    assert [str(a["DESCRIPTION"]) for a in event.walk("VALARM")] == ["Séance (75 min)"]
    assert "Hans Keller" in str(before[past.hans.uid].icalendar_component["SUMMARY"])
    hans_now = world.calendar.get_event_by_uid(past.hans.uid).icalendar_component
    assert str(hans_now["SUMMARY"]) == "Séance (75 min) – Hans Keller"

    practice.run_until_quiet()
    practice.run_until_quiet(at("2026-12-08 15:00"))
    assert (len(scene.smtp.received), len(scene.twilio.messages)) == (mails, sms)

    with scene.store.read() as tx:
        (entry,) = [e for e in tx.audit_entries(5) if e.action == "patient.erase"]
    assert (entry.actor, entry.subject) == ("admin", f"patient:{zoe}")
    # changes: her 3 events' puts, Anne's edit, the cancellation, the 2 redactions;
    # messages: 3 confirmations and 1 cancellation to her and the therapist, her SMS reminder
    assert entry.details == "appointments=3,events=2,changes=7,messages=9"


def event_text(scene: PatientScene, appointment: Appointment) -> str:
    with scene.store.read() as tx:
        item = tx.item(appointment.collection_path, appointment.href)
    assert item is not None
    return item.text


def still_there(scene: PatientScene, patient_id: int, appointment: Appointment) -> bool:
    with scene.store.read() as tx:
        found = tx.patient(patient_id) is not None
    return found and "Zoë Quenneville" in event_text(scene, appointment)


def test_refused_while_appointments_are_to_come(world: Scene) -> None:
    scene, practice = world.scene, world.practice
    past = practice.book("2026-12-02 14:00", ZOE).appointment
    coming = practice.book("2026-12-10 09:00", ZOE, therapist="marc").appointment
    practice.run_until_quiet(at("2026-12-05 08:00"))
    zoe = scene.patient_id(past.uid)
    admin = scene.admin()
    page = admin.get(f"/admin/patients/{zoe}/erase")
    assert element(page, "upcoming") == (
        "Ce patient a encore des rendez-vous à venir. Annulez-les d’abord (le patient en est "
        "informé), puis effacez ses données : jeudi 10 décembre 2026, 09:00 · Séance (75 min) "
        "· Marc Favre"
    )
    assert 'id="erase-form"' not in page.get_data(as_text=True)
    # A form sent anyway (from an old page, another tab) is refused the same way.
    version = erasure_plan(scene.store, "test", zoe, practice.clock()).version
    token = hidden_fields(page, "/admin/logout")
    answer = admin.post(
        f"/admin/patients/{zoe}/erase", data={**token, "confirm": "yes", "version": version}
    )
    assert answer.status_code == 409
    assert "Marc Favre" in element(answer, "upcoming")
    assert still_there(scene, zoe, past)

    cancel(
        practice.store,
        practice.config,
        coming.uid,
        1,
        practice.clock(),
        "admin",
        enforce_cutoff=False,
    )
    practice.run_until_quiet()  # she is told of the cancellation
    told = [m.subject for m in scene.smtp.to(ZOE.email or "")]
    assert told[-1].startswith("Rendez-vous annulé")
    page = admin.get(f"/admin/patients/{zoe}/erase")
    answer = submit(admin, page, f"/admin/patients/{zoe}/erase", {"confirm": "yes"})
    assert location(answer) == "/admin/patients"
    assert traces_of(scene.store) == []


def test_the_box_must_be_ticked_and_the_form_must_carry_its_token(world: Scene) -> None:
    scene, practice = world.scene, world.practice
    past = practice.book("2026-12-02 14:00", ZOE).appointment
    practice.run_until_quiet(at("2026-12-05 08:00"))
    zoe = scene.patient_id(past.uid)
    admin = scene.admin()
    page = admin.get(f"/admin/patients/{zoe}/erase")
    answer = submit(admin, page, f"/admin/patients/{zoe}/erase", {})
    assert answer.status_code == 422
    assert element(answer, "confirm-error") == (
        "Veuillez cocher la case pour confirmer l’effacement."
    )
    forged = admin.post(f"/admin/patients/{zoe}/erase", data={"confirm": "yes"})
    assert forged.status_code == 400
    assert still_there(scene, zoe, past)


def test_refused_when_the_record_changed_since_the_page_was_opened(world: Scene) -> None:
    scene, practice = world.scene, world.practice
    past = practice.book("2026-12-02 14:00", ZOE).appointment
    practice.run_until_quiet(at("2026-12-05 08:00"))
    zoe = scene.patient_id(past.uid)
    admin = scene.admin()
    page = admin.get(f"/admin/patients/{zoe}/erase")
    with scene.store.write() as tx:  # meanwhile, Anne writes a note into the record
        patient = tx.patient(zoe)
        assert patient is not None
        tx.update_patient(zoe, PatientChanges(ZOE, patient.sms_enabled, "Appelle le soir."))
    answer = submit(admin, page, f"/admin/patients/{zoe}/erase", {"confirm": "yes"})
    assert answer.status_code == 409
    assert element(answer, "changed") == (
        "Quelque chose a changé depuis l’ouverture de cette page : rien n’a été effacé. "
        "Veuillez vérifier à nouveau."
    )
    assert still_there(scene, zoe, past)
    again = submit(admin, answer, f"/admin/patients/{zoe}/erase", {"confirm": "yes"})
    assert location(again) == "/admin/patients"
    assert traces_of(scene.store) == []


def test_a_message_not_sent_yet_is_never_sent(world: Scene) -> None:
    scene, practice = world.scene, world.practice
    coming = practice.book("2026-12-09 14:00", ZOE).appointment
    practice.run_until_quiet()
    zoe = scene.patient_id(coming.uid)
    scene.smtp.stop()  # the mail server is down when Anne cancels
    cancel(
        practice.store,
        practice.config,
        coming.uid,
        1,
        practice.clock(),
        "anne",
        enforce_cutoff=False,
    )
    practice.run()
    with scene.store.read() as tx:
        waiting = [e for e in tx.outbox_entries(coming.uid) if e.state == "pending"]
    assert len(waiting) == 2  # the cancellation, to her and to Anne
    admin = scene.admin()
    page = admin.get(f"/admin/patients/{zoe}/erase")
    assert element(page, "erase-messages").endswith(
        "2 d’entre eux ne sont pas encore envoyés et ne le seront jamais."
    )
    assert location(submit(admin, page, f"/admin/patients/{zoe}/erase", {"confirm": "yes"}))
    sent_before = len(scene.smtp.received)
    scene.smtp.start()
    practice.run_until_quiet(at("2026-12-01 08:00"))
    assert len(scene.smtp.received) == sent_before
    with scene.store.read() as tx:
        states = {(e.state, e.recipient, e.last_error) for e in tx.outbox_entries(coming.uid)}
    assert states == {("sent", "", None), ("void", "", "the patient's data was erased")}


def test_nothing_identifying_is_logged(world: Scene, caplog: pytest.LogCaptureFixture) -> None:
    scene, practice = world.scene, world.practice
    caplog.set_level(logging.INFO)
    past = history(world)
    zoe = scene.patient_id(past.seen.uid)
    admin = scene.admin()
    admin.get("/admin/patients", query_string={"q": "Quenneville"})
    admin.get(f"/admin/patients/{zoe}")
    page = admin.get(f"/admin/patients/{zoe}/erase")
    assert location(submit(admin, page, f"/admin/patients/{zoe}/erase", {"confirm": "yes"}))
    practice.run_until_quiet()
    world.calendar.objects_by_sync_token(load_objects=True)  # calendar apps sync
    ours = [r for r in caplog.records if r.name.split(".")[0] not in TEST_SERVERS]
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in ours)
    assert "sent (email)" in logged  # the watcher did log its deliveries
    for trace in ("Quenneville", "Zoë", "zoe.quenneville", "791112233", "79 111 22 33"):
        assert trace not in logged


def test_a_patient_without_appointments_is_erased_too(world: Scene) -> None:
    scene = world.scene
    with scene.store.write() as tx:
        zoe = tx.add_patient(ZOE, "anne", consent=False).id
        tx.audit("anne", "patient.create", f"patient:{zoe}")
    admin = scene.admin()
    page = admin.get(f"/admin/patients/{zoe}/erase")
    assert element(page, "erase-appointments").startswith("0 rendez-vous")
    assert location(submit(admin, page, f"/admin/patients/{zoe}/erase", {"confirm": "yes"}))
    assert traces_of(scene.store) == []
    assert admin.get(f"/admin/patients/{zoe}").status_code == 404
    with scene.store.read() as tx:
        actions = [(e.action, e.subject) for e in tx.audit_entries(3)]
    assert actions[0] == ("patient.erase", f"patient:{zoe}")

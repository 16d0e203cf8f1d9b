"""A patient's data for them, from the admin panel, on SQLite and PostgreSQL: a JSON document
with everything the practice keeps about them (checked against what the real SMTP and Twilio
servers received) and a calendar file of their appointments that matches what the patient
gets from their manage link; both downloads private, attached and audited."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import icalendar
import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from booking_web.therapist.patients import form_values
from caldav_bridge.booking import cancel
from caldav_bridge.patient_records import (
    check_patient_form,
    record_version,
    update_patient,
    visible_patient,
)
from caldav_bridge.store import Appointment
from tests.integration.test_therapist_support import audit_actions
from tests.support.notify import at
from tests.support.patient_scene import ZOE, PatientScene, patient_scene

NOTES = "Préfère les rendez-vous du matin."


@dataclass(frozen=True)
class Story:
    scene: PatientScene
    zoe: int
    with_anne: Appointment
    with_marc: Appointment
    cancelled: Appointment


@pytest.fixture
def story(practice_toml: Path, database_url: str) -> Iterator[Story]:
    """Zoë books Anne and Marc, cancels a third appointment herself, gets her SMS reminder;
    Anne writes a note into her record."""
    with patient_scene(practice_toml, database_url) as scene:
        practice = scene.practice
        with_anne = practice.book("2026-12-02 14:00", ZOE).appointment
        with_marc = practice.book("2026-12-03 09:00", ZOE, therapist="marc").appointment
        gone = practice.book("2026-12-09 14:00", ZOE).appointment
        cancelled = cancel(
            practice.store, practice.config, gone.uid, 1, practice.clock(), "patient",
            enforce_cutoff=True,
        )  # fmt: skip
        practice.run_until_quiet()
        practice.run_until_quiet(at("2026-12-01 15:00"))
        zoe = scene.patient_id(with_anne.uid)
        anne_writes_a_note(scene, zoe)
        yield Story(scene, zoe, with_anne, with_marc, cancelled)


def anne_writes_a_note(scene: PatientScene, patient_id: int) -> None:
    found = visible_patient(scene.store, "anne", patient_id, "open_form")
    form = {**form_values(found), "notes": NOTES}
    checked = check_patient_form(form, scene.practice.config.practice.languages)
    assert checked.changes is not None
    update_patient(scene.store, "anne", patient_id, record_version(found), checked.changes)


def lines(text: str) -> list[str]:
    return text.strip().splitlines()


def download(client: FlaskClient, path: str, filename: str, mimetype: str) -> TestResponse:
    answer = client.get(path)
    assert answer.status_code == 200
    assert answer.mimetype == mimetype
    assert answer.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert "no-store" in answer.headers["Cache-Control"]
    return answer


def test_the_json_holds_everything_kept_about_her(story: Story) -> None:
    scene, zoe = story.scene, story.zoe
    answer = download(
        scene.admin(), f"/admin/patients/{zoe}/data.json", f"patient-{zoe}.json", "application/json"
    )
    document: dict[str, Any] = json.loads(answer.get_data(as_text=True))
    assert document["practice"]["name"] == "Cabinet du Lac"
    patient = document["patient"]
    assert {k: patient[k] for k in ("first_name", "last_name", "email", "phone", "language")} == {
        "first_name": "Zoë",
        "last_name": "Quenneville",
        "email": "zoe.quenneville@example.org",
        "phone": "+41791112233",
        "language": "fr",
    }
    assert (patient["notes"], patient["sms_reminders"]) == (NOTES, True)
    assert patient["consent_given_online_at"].startswith("2026-11-30T08:00:00+01:00")

    appointments = [
        (a["start"], a["end"], a["service"]["name"], a["therapist"]["name"], a["status"])
        for a in document["appointments"]
    ]
    assert appointments == [
        (
            "2026-12-02T14:00:00+01:00",
            "2026-12-02T15:15:00+01:00",
            "Séance (75 min)",
            "Anne Rochat",
            "confirmed",
        ),
        (
            "2026-12-03T09:00:00+01:00",
            "2026-12-03T10:15:00+01:00",
            "Séance (75 min)",
            "Marc Favre",
            "confirmed",
        ),
        (
            "2026-12-09T14:00:00+01:00",
            "2026-12-09T15:15:00+01:00",
            "Séance (75 min)",
            "Anne Rochat",
            "cancelled",
        ),
    ]
    assert {a["message_to_therapist"] for a in document["appointments"]} == {"Merci"}

    emails = [m for m in document["messages"] if m["channel"] == "email"]
    received = scene.smtp.to(ZOE.email or "")
    assert [m["subject"] for m in emails] == [r.subject for r in received]
    assert [lines(m["text"]) for m in emails] == [lines(r.part("text/plain")) for r in received]
    assert {(m["recipient"], m["state"]) for m in emails} == {(ZOE.email, "sent")}
    (sms,) = [m for m in document["messages"] if m["channel"] == "sms"]
    (delivered,) = scene.twilio.messages
    assert (sms["body"], sms["kind"], sms["state"]) == (delivered["body"], "sms_reminder", "sent")

    audit = [(e["actor"], e["action"], e["details"]) for e in document["audit"]]
    assert ("anne", "patient.update", "notes") in audit
    assert audit[-1] == ("admin", "patient.export", "format=json")


def vevents(body: bytes) -> dict[str, icalendar.Event]:
    calendar = icalendar.Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.events}


def manage_path(scene: PatientScene) -> str:
    """The manage link in her first email: the confirmation of her appointment with Anne."""
    first = scene.smtp.to(ZOE.email or "")[0]
    assert "2 décembre 2026" in first.subject
    link = re.search(r"https?://[^/\s]+(/manage/\S+)", first.part("text/plain"))
    assert link is not None
    return link.group(1)


def test_the_calendar_file_is_what_she_gets_from_her_link(story: Story) -> None:
    scene, zoe = story.scene, story.zoe
    admin = scene.admin()
    answer = download(
        admin,
        f"/admin/patients/{zoe}/appointments.ics",
        f"patient-{zoe}-appointments.ics",
        "text/calendar",
    )
    exported = vevents(answer.get_data())
    uids = [f"{a.uid}-patient" for a in (story.with_anne, story.with_marc, story.cancelled)]
    assert sorted(exported) == sorted(uids)
    assert str(exported[uids[2]]["STATUS"]) == "CANCELLED"
    assert str(exported[uids[1]]["SUMMARY"]) == "Séance (75 min) – Marc Favre"

    patient = scene.app.test_client()
    own = patient.get(manage_path(scene) + "/calendar.ics")
    assert own.status_code == 200
    (from_link,) = vevents(own.get_data()).values()
    mine = exported[uids[0]]
    for name in ("UID", "SUMMARY", "LOCATION", "DESCRIPTION", "STATUS", "SEQUENCE"):
        assert str(mine[name]) == str(from_link[name]), name
    assert (mine.start, mine.end) == (from_link.start, from_link.end)
    assert ("admin", "patient.export", f"patient:{zoe}", "format=ics") in audit_actions(scene.store)

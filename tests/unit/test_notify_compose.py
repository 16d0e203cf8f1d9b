"""The messages a change or a reminder needs, as patient and therapist will read them.

Pure: the demo configuration, values for the appointment and the patient, a fixed time.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from caldav_bridge.config import Config
from caldav_bridge.config_loader import load_config
from caldav_bridge.errors import ConfigError
from caldav_bridge.manage_links import read_manage_token
from caldav_bridge.notify.changes import AppointmentChange, EventFacts
from caldav_bridge.notify.compose import Composer
from caldav_bridge.notify.messages import Email, Outgoing, Sms
from caldav_bridge.notify.mime import email_message
from caldav_bridge.notify.samples import check_templates
from caldav_bridge.notify.templates import Templates
from caldav_bridge.store import Appointment, Patient

DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZURICH)
KEY = "unit-test-secret"
START = datetime(2026, 12, 2, 15, 15, tzinfo=ZURICH)
PLACE = "Avenue de Rhodanie 58, 1007 Lausanne"


def zoe(**changes: object) -> Patient:
    patient = Patient(
        id=7,
        first_name="Zoë",
        last_name="Müller",
        email="zoe@example.org",
        phone="+41791234567",
        language="fr",
        sms_enabled=True,
        notes="",
        consent_at=None,
        created_by="patient",
    )
    return replace(patient, **changes)  # type: ignore[arg-type]


def appointment(start: datetime = START, **changes: object) -> Appointment:
    found = Appointment(
        uid="appt-1",
        therapist="anne",
        collection_path="anne/appointments",
        href="appt-1.ics",
        patient_id=7,
        service="seance-75",
        start_at=start.astimezone(UTC),
        end_at=(start + timedelta(minutes=75)).astimezone(UTC),
        status="confirmed",
        created_by="patient",
        sms_enabled=True,
        version=1,
        message="Douleurs au dos",
    )
    return replace(found, **changes)  # type: ignore[arg-type]


def facts(start: datetime, minutes: int = 75, place: str = "") -> EventFacts:
    return EventFacts(
        start.astimezone(UTC), (start + timedelta(minutes=minutes)).astimezone(UTC), place, False
    )


@pytest.fixture
def config() -> Config:
    return load_config(DEMO)


def composer(config: Config, **notifications: object) -> Composer:
    settings = replace(config.notifications, **notifications)  # type: ignore[arg-type]
    return Composer(replace(config, notifications=settings), Templates(), KEY)


def by_template(messages: list[Outgoing]) -> dict[str, Outgoing]:
    return {m.template: m for m in messages}


def email(message: Outgoing) -> Email:
    assert isinstance(message.content, Email)
    return message.content


BOOKED = AppointmentChange("booked", None, facts(START))


def test_a_booking_confirms_to_patient_and_therapist_in_their_languages(config: Config) -> None:
    hans = zoe(first_name="Hans", last_name="Keller", email="hans@example.org", language="de")
    found = by_template(composer(config).for_change(3, BOOKED, appointment(), hans, "patient", NOW))
    assert sorted(found) == ["booked_patient", "booked_therapist"]
    patient, therapist = email(found["booked_patient"]), email(found["booked_therapist"])
    assert found["booked_patient"].recipient == "hans@example.org"
    assert patient.subject == "Termin bestätigt: Mittwoch, 2. Dezember 2026, 15:15 Uhr"
    for line in (
        "Datum: Mittwoch, 2. Dezember 2026",
        "Zeit: 15:15–16:30 (75 Min.)",
        f"Ort: {PLACE}",
        "Leistung: Sitzung (75 Min.)",
        "Therapeut/in: Anne Rochat",
        "bis Dienstag, 1. Dezember 2026, 15:15 Uhr online ändern",  # the 24 h cut-off
        "Tel. +41 21 555 01 00",
    ):
        assert line in patient.text
    assert found["booked_therapist"].recipient == "anne@cabinet-du-lac.example"
    assert (
        therapist.subject == "Nouveau rendez-vous : Hans Keller, mercredi, 2 décembre 2026 à 15:15"
    )
    for line in (
        "Hans Keller a réservé en ligne",
        "Prestation : Séance (75 min)",
        "E-mail : hans@example.org",
        "Message : Douleurs au dos",
    ):
        assert line in therapist.text
    assert "/manage/" not in therapist.text


def test_the_patients_manage_link_names_the_appointment_and_its_version(config: Config) -> None:
    messages = composer(config).for_change(3, BOOKED, appointment(version=4), zoe(), "patient", NOW)
    text = email(by_template(messages)["booked_patient"]).text
    link = next(line for line in text.splitlines() if "/manage/" in line)
    assert link.startswith("http://127.0.0.1:8080/manage/")
    target = read_manage_token(KEY, link.rsplit("/", 1)[1], timedelta(days=120))
    assert (target.uid, target.version) == ("appt-1", 4)


def test_a_summer_appointment_shows_summer_time(config: Config) -> None:
    july = datetime(2027, 7, 5, 9, 0, tzinfo=ZURICH)  # 07:00 UTC
    change = AppointmentChange("booked", None, facts(july))
    found = by_template(
        composer(config).for_change(3, change, appointment(july), zoe(), "patient", NOW)
    )
    assert "Heure : 09:00 – 10:15 (75 min)" in email(found["booked_patient"]).text


def test_a_move_tells_old_and_new_time_and_who_moved_it(config: Config) -> None:
    before, after = facts(START), facts(START + timedelta(days=1, hours=-6))
    change = AppointmentChange("changed", before, after)
    moved = appointment(START + timedelta(days=1, hours=-6), version=2)
    found = by_template(composer(config).for_change(9, change, moved, zoe(), "anne", NOW))
    patient = email(found["changed_patient"]).text
    assert "modifié par Anne Rochat" in patient
    assert "Ancien horaire : mercredi, 2 décembre 2026, 15:15 – 16:30" in patient
    assert "Nouvel horaire : jeudi, 3 décembre 2026, 09:15 – 10:30" in patient
    assert "Ancien lieu" not in patient
    therapist = email(found["changed_therapist"]).text
    assert "modifié par Anne Rochat" in therapist
    assert "Nouvel horaire : jeudi, 3 décembre 2026, 09:15 – 10:30" in therapist


def test_a_new_place_is_told_with_the_old_one(config: Config) -> None:
    change = AppointmentChange(
        "changed", facts(START), facts(START, place="Salle 2, Rue du Port 1")
    )
    found = by_template(composer(config).for_change(9, change, appointment(), zoe(), "admin", NOW))
    patient = email(found["changed_patient"]).text
    assert "modifié par le cabinet" in patient
    assert f"Ancien lieu : {PLACE}" in patient
    assert "Nouveau lieu : Salle 2, Rue du Port 1" in patient
    assert "Lieu : Salle 2, Rue du Port 1" in patient
    assert "Ancien horaire" not in patient


def test_a_cancellation_shows_the_cancelled_time_and_a_way_to_book_again(config: Config) -> None:
    change = AppointmentChange("cancelled", facts(START), None)
    cancelled = appointment(status="cancelled", version=2)
    found = by_template(composer(config).for_change(9, change, cancelled, zoe(), "patient", NOW))
    patient = email(found["cancelled_patient"])
    assert patient.subject == "Rendez-vous annulé : mercredi, 2 décembre 2026 à 15:15"
    assert "annulé par vous-même" in patient.text
    assert "Pour prendre un nouveau rendez-vous : http://127.0.0.1:8080/" in patient.text
    therapist = email(found["cancelled_therapist"])
    assert "annulé par Zoë Müller (en ligne)" in therapist.text
    calendar = icalendar.Calendar.from_ical(patient.ics or "")
    assert str(calendar.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_the_attachment_is_an_event_to_add_not_an_invitation(config: Config) -> None:
    messages = composer(config).for_change(3, BOOKED, appointment(version=3), zoe(), "patient", NOW)
    found = email(by_template(messages)["booked_patient"])
    assert found.ics_name == "rendez-vous.ics"
    calendar = icalendar.Calendar.from_ical(found.ics or "")
    assert str(calendar["METHOD"]) == "PUBLISH"
    (vevent,) = calendar.walk("VEVENT")
    assert "ATTENDEE" not in vevent
    assert "ORGANIZER" not in vevent
    assert vevent.decoded("DTSTART") == START
    assert vevent["DTSTART"].params["TZID"] == "Europe/Zurich"
    assert vevent.decoded("DTEND") == START + timedelta(minutes=75)
    # The patient's own event (the manage page's download is the same one), at version 3.
    assert (str(vevent["UID"]), vevent.decoded("SEQUENCE")) == ("appt-1-patient", 2)
    assert str(vevent["LOCATION"]) == PLACE
    assert str(vevent["SUMMARY"]) == "Séance (75 min) – Anne Rochat"
    assert calendar.walk("VTIMEZONE")


def test_the_therapists_attachment_is_the_event_already_in_their_calendar(config: Config) -> None:
    messages = composer(config).for_change(3, BOOKED, appointment(version=3), zoe(), "patient", NOW)
    found = email(by_template(messages)["booked_therapist"])
    (vevent,) = icalendar.Calendar.from_ical(found.ics or "").walk("VEVENT")
    assert (str(vevent["UID"]), vevent.decoded("SEQUENCE")) == ("appt-1", 2)
    assert str(vevent["SUMMARY"]) == "Séance (75 min) – Zoë Müller"


def test_sms_notices_are_off_by_default_and_never_tell_the_therapy(config: Config) -> None:
    plain = composer(config).for_change(3, BOOKED, appointment(), zoe(), "patient", NOW)
    assert [m.channel for m in plain] == ["email", "email"]
    with_sms = composer(config, sms_notices=True).for_change(
        3, BOOKED, appointment(), zoe(language="it"), "patient", NOW
    )
    (sms,) = [m for m in with_sms if m.channel == "sms"]
    assert isinstance(sms.content, Sms)
    assert sms.recipient == "+41791234567"
    body = sms.content.body
    assert body.startswith(
        "Buongiorno Zoë, il suo appuntamento del mer 2 dic alle 15:15 presso Cabinet du Lac"
    )
    assert "/manage/" in body
    for therapy_detail in ("Seduta", "Séance", "75", "Anne", "Rochat", "Rhodanie"):
        assert therapy_detail not in body.split("/manage/")[0]


@pytest.mark.parametrize(
    "patient",
    [
        zoe(sms_enabled=False),
        zoe(phone=None),
    ],
)
def test_no_sms_notice_when_sms_is_off_or_impossible(config: Config, patient: Patient) -> None:
    messages = composer(config, sms_notices=True).for_change(
        3, BOOKED, appointment(), patient, "patient", NOW
    )
    assert [m.channel for m in messages] == ["email", "email"]
    off = composer(config, sms_notices=True).for_change(
        3, BOOKED, appointment(sms_enabled=False), zoe(), "patient", NOW
    )
    assert [m.channel for m in off] == ["email", "email"]


def test_a_patient_without_email_leaves_the_therapist_notice(config: Config) -> None:
    messages = composer(config).for_change(
        3, BOOKED, appointment(), zoe(email=None), "patient", NOW
    )
    assert [m.template for m in messages] == ["booked_therapist"]


def test_a_change_to_a_past_appointment_sends_nothing(config: Config) -> None:
    change = AppointmentChange("cancelled", facts(NOW - timedelta(days=2)), None)
    past = appointment(NOW - timedelta(days=2))
    assert composer(config).for_change(3, change, past, zoe(), "anne", NOW) == []


def test_keys_are_the_same_for_the_same_decision(config: Config) -> None:
    first = composer(config).for_change(3, BOOKED, appointment(), zoe(), "patient", NOW)
    again = composer(config).for_change(3, BOOKED, appointment(), zoe(), "patient", NOW)
    assert [m.key for m in first] == [m.key for m in again]
    assert [m.key for m in first] == [
        "change:3:email:booked_patient",
        "change:3:email:booked_therapist",
    ]


def test_what_a_patient_typed_is_text_in_html_and_never_a_header(config: Config) -> None:
    sneaky = zoe(first_name="<b>Zoë</b>", last_name="Müller\r\nBcc: x@evil.example")
    messages = composer(config).for_change(3, BOOKED, appointment(), sneaky, "patient", NOW)
    therapist = by_template(messages)["booked_therapist"]
    content = email(therapist)
    assert "<b>Zoë</b>" not in content.html
    assert "&lt;b&gt;Zoë&lt;/b&gt;" in content.html
    raw = email_message(
        content,
        sender="Cabinet du Lac <rdv@cabinet.example>",
        recipient=therapist.recipient,
        key=therapist.key,
        reply_to="",
        date=NOW,
    ).as_bytes()
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    assert parsed.get_all("To") == ["anne@cabinet-du-lac.example"]
    assert str(parsed["Subject"]).startswith(
        "Nouveau rendez-vous : <b>Zoë</b> Müller Bcc: x@evil.example, mercredi"
    )


def test_html_links_are_the_texts_links(config: Config) -> None:
    messages = composer(config).for_change(3, BOOKED, appointment(), zoe(), "patient", NOW)
    content = email(by_template(messages)["booked_patient"])
    link = next(line for line in content.text.splitlines() if "/manage/" in line)
    assert f'<a href="{link}"' in content.html


def test_reminders_on_each_channel_announce_the_start(config: Config) -> None:
    messages = composer(config).reminders(["sms", "email"], appointment(), zoe(), "", NOW)
    sms, mail = messages
    assert sms.key == f"reminder:appt-1:{START.astimezone(UTC).isoformat()}:sms"
    assert isinstance(sms.content, Sms)
    assert sms.content.body.startswith(
        "Bonjour Zoë, rappel : rendez-vous le mer. 2 déc. à 15:15 chez Cabinet du Lac."
    )
    assert sms.start_at == START
    assert email(mail).subject == "Rappel : rendez-vous le mercredi, 2 décembre 2026 à 15:15"
    assert email(mail).ics is None


def test_an_override_in_config_templates_wins(config: Config, tmp_path: Path) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "sms_reminder.txt").write_text(
        "{{ practice }} : RDV {{ date }} {{ time }}. {{ manage_url }}\n", encoding="utf-8"
    )
    custom = Composer(config, Templates(tmp_path), KEY)
    (sms,) = custom.reminders(["sms"], appointment(), zoe(), "", NOW)
    assert isinstance(sms.content, Sms)
    assert sms.content.body.startswith("Cabinet du Lac : RDV mer. 2 déc. 15:15. http://")


def test_a_broken_override_stops_start_up_naming_the_file(config: Config, tmp_path: Path) -> None:
    (tmp_path / "de").mkdir()
    broken = tmp_path / "de" / "changed_patient.txt"
    broken.write_text("Termin {{ when.date \n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        check_templates(config, tmp_path)
    assert str(broken) in str(error.value)


def test_an_sms_template_cannot_ask_for_therapy_details(config: Config, tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    greedy = tmp_path / "en" / "sms_booked.txt"
    greedy.write_text("{{ first_name }}: {{ service }} on {{ date }}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        check_templates(config, tmp_path)
    assert "service" in str(error.value)


def test_an_override_broken_later_falls_back_to_the_default(
    config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "fr").mkdir()
    (tmp_path / "fr" / "booked_patient.txt").write_text("{{ nonsense.field }}\n", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        messages = Composer(config, Templates(tmp_path), KEY).for_change(
            3, BOOKED, appointment(), zoe(), "patient", NOW
        )
    assert email(by_template(messages)["booked_patient"]).subject.startswith("Rendez-vous confirmé")
    assert "fr/booked_patient.txt" in caplog.text


def test_the_default_templates_pass_the_start_up_check(config: Config) -> None:
    check_templates(
        config, Path(__file__).resolve().parents[2] / "caldav_bridge" / "notify" / "templates"
    )

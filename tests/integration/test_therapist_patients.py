"""The therapist's patients, on SQLite and PostgreSQL: only those who have or had an
appointment with them or whom they created; search by name, email or phone; create and edit
with messages next to refused fields; stale edits refused; a colleague's patient is a 404;
every read and change audited without personal data; the delivery log of the messages to the
patient about the therapist's own appointments only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from caldav_bridge.booking import BookingRequest, book, cancel
from caldav_bridge.store import Appointment, Patient, PatientDetails, Store
from tests.integration.test_therapist_support import (
    Space,
    add_patient,
    at,
    audit_actions,
    form_fields,
    logged_in,
    post_form,
    therapist_space,
)
from tests.support.patient_scene import ZOE, patient_scene
from tests.support.web import NOW, attribute, element, location, text_of

NEW = "/therapist/patients/new"
FORM = {
    "first_name": "Élise",
    "last_name": "Rochat-Bühler",
    "email": "Elise@Example.org",
    "phone": "079 444 55 66",
    "language": "de",
    "sms_enabled": "on",
    "notes": "Allergie au latex.\nPréfère le matin.",
}


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return therapist_space(store, practice_toml)


def booked_online(
    space: Space, therapist: str, first: str, last: str, start: str, *, now: str | None = None
) -> Appointment:
    email = f"{first.lower()}@example.org"
    details = PatientDetails(first, last, email, None, "fr")
    request = BookingRequest("seance-75", therapist, at(start), details, consent=True)
    clock = at(now) if now else NOW
    return book(space.store, space.web.runtime.config, request, clock).appointment


def patient_of(space: Space, appointment: Appointment) -> Patient:
    with space.store.read() as tx:
        found = tx.patient_of_appointment(appointment.uid)
    assert found is not None
    return found


def names(client: FlaskClient, query: str = "") -> list[str]:
    page = client.get("/therapist/patients", query_string={"q": query} if query else None)
    text = page.get_data(as_text=True)
    return re.findall(r'<th scope="row"><a href="/therapist/patients/\d+">([^<]+)</a>', text)


def test_a_therapist_sees_only_their_patients(space: Space) -> None:
    add_patient(space.store, "anne", "Zoë", "Müller")
    add_patient(space.store, "marc", "Jean", "Dupont", "jean@example.org")
    booked_online(space, "anne", "Léa", "Favre", "2026-12-02 14:00")
    booked_online(space, "marc", "Paul", "Martin", "2026-12-02 09:00")
    gone = booked_online(space, "anne", "Nina", "Keller", "2026-12-02 15:15")
    cancel(space.store, space.web.runtime.config, gone.uid, 1, NOW, "patient", enforce_cutoff=True)
    client = logged_in(space)
    assert names(client) == ["Favre Léa", "Keller Nina", "Müller Zoë"]
    page = client.get("/therapist/patients")
    assert element(page, "patient-count") == "3 patients"
    marc = logged_in(space, "marc")
    assert names(marc) == ["Dupont Jean", "Martin Paul"]


@pytest.mark.parametrize(
    "query",
    [
        "zoe",
        "MÜLLER",
        "zoë müller",
        "müller zoe",
        "zoe@example",
        "079 123 45 67",
        "+41 79 123",
        "791234567",
    ],
)
def test_search_by_name_email_or_phone(space: Space, query: str) -> None:
    add_patient(space.store, "anne", "Zoë", "Müller", "zoe@example.org", "+41791234567")
    add_patient(space.store, "anne", "Léa", "Favre", "lea@example.org", "+41797654321")
    assert names(logged_in(space), query) == ["Müller Zoë"]


def test_a_search_finds_nothing_of_a_colleague(space: Space) -> None:
    add_patient(space.store, "marc", "Jean", "Dupont", "jean@example.org", "+41795550000")
    client = logged_in(space)
    for query in ("Dupont", "jean@example.org", "079 555 00 00"):
        page = client.get("/therapist/patients", query_string={"q": query})
        assert element(page, "no-patient-found") == "Aucun patient trouvé."
        assert "Dupont" not in text_of(page)


def test_creating_a_patient(space: Space) -> None:
    client = logged_in(space)
    form = client.get(NEW)
    answer = post_form(client, form, NEW, **FORM)
    assert location(answer).startswith("/therapist/patients/")
    page = client.get(location(answer))
    assert "Le patient a été ajouté." in text_of(page)
    assert element(page, "patient-name") == "Élise Rochat-Bühler"
    assert element(page, "patient-phone") == "+41794445566"
    assert element(page, "patient-language") == "Deutsch"
    assert element(page, "patient-notes") == "Allergie au latex. Préfère le matin."
    patient_id = int(location(answer).rsplit("/", 1)[-1])
    with space.store.read() as tx:
        stored = tx.patient(patient_id)
    assert stored is not None
    assert (stored.email, stored.phone, stored.language) == (
        "Elise@example.org",
        "+41794445566",
        "de",
    )
    assert (stored.sms_enabled, stored.notes, stored.created_by) == (
        True,
        "Allergie au latex.\nPréfère le matin.",
        "anne",
    )
    assert stored.consent_at is None  # given by the patient online, not by the therapist


def test_a_patient_created_while_booking_leads_back_to_the_booking(space: Space) -> None:
    client = logged_in(space)
    start = client.get("/therapist/appointments/new")
    form = client.get(attribute(start, "new-patient", "href") or "")
    answer = post_form(client, form, NEW, **FORM)
    assert location(answer).startswith("/therapist/appointments/new?patient=")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("last_name", "", "Veuillez saisir le nom."),
        (
            "first_name",
            "Zoë\r\nX-Evil: 1",
            "Veuillez retirer les retours à la ligne et autres caractères spéciaux.",
        ),
        (
            "email",
            "zoe@",
            "Veuillez saisir une adresse e-mail valable, par exemple nom@exemple.ch.",
        ),
        (
            "phone",
            "12",
            "Veuillez saisir un numéro de mobile valable, par exemple 079 123 45 67 "
            "ou +41 79 123 45 67.",
        ),
        ("language", "xx", "Veuillez choisir l’une des langues proposées."),
        ("notes", "x" * 5001, "Veuillez raccourcir ce texte à 5000 caractères au plus."),
    ],
)
def test_a_refused_field_gets_a_message_and_nothing_is_saved(
    space: Space, field: str, value: str, message: str
) -> None:
    client = logged_in(space)
    answer = post_form(client, client.get(NEW), NEW, **{**FORM, field: value})
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    with space.store.read() as tx:
        assert tx.patients_count() == 0


def test_editing_a_patient(space: Space) -> None:
    patient = add_patient(space.store, "anne")
    client = logged_in(space)
    action = f"/therapist/patients/{patient.id}/edit"
    form = client.get(action)
    answer = post_form(
        client,
        form,
        action,
        first_name="Zoë",
        last_name="Müller",
        email="",
        phone="+41 79 999 88 77",
        language="it",
        notes="Nouvelle note",
    )  # sms_enabled not sent: the box was unticked
    assert location(answer) == f"/therapist/patients/{patient.id}"
    with space.store.read() as tx:
        stored = tx.patient(patient.id)
    assert stored is not None
    assert (stored.email, stored.phone, stored.language, stored.sms_enabled, stored.notes) == (
        None,
        "+41799998877",
        "it",
        False,
        "Nouvelle note",
    )
    assert (
        "anne",
        "patient.update",
        f"patient:{patient.id}",
        "email,phone,language,sms_enabled,notes",
    ) in audit_actions(space.store)


def test_an_edit_from_a_stale_form_is_refused_and_shows_the_current_record(space: Space) -> None:
    patient = add_patient(space.store, "anne")
    action = f"/therapist/patients/{patient.id}/edit"
    first, second = logged_in(space), logged_in(space)
    old_form = first.get(action)
    newer = second.get(action)
    saved = post_form(
        second,
        newer,
        action,
        first_name="Zoë",
        last_name="Müller",
        email="zoe@example.org",
        phone="+41791234567",
        language="fr",
        sms_enabled="on",
        notes="Rappeler lundi",
    )
    assert location(saved) == f"/therapist/patients/{patient.id}"
    answer = post_form(
        first,
        old_form,
        action,
        first_name="Zoé",
        last_name="Müller",
        email="zoe@example.org",
        phone="+41791234567",
        language="fr",
        sms_enabled="on",
        notes="",
    )
    assert answer.status_code == 409
    assert element(answer, "conflict").startswith("Quelqu’un a modifié les données de ce patient")
    assert element(answer, "your-changes") == "Prénom Zoé Notes —"
    assert "Rappeler lundi" in element(answer, "notes")
    with space.store.read() as tx:
        stored = tx.patient(patient.id)
    assert stored is not None
    assert (stored.first_name, stored.notes) == ("Zoë", "Rappeler lundi")
    # The form now carries the current version: sending it again saves.
    again = post_form(
        first,
        answer,
        action,
        first_name="Zoé",
        last_name="Müller",
        email="zoe@example.org",
        phone="+41791234567",
        language="fr",
        sms_enabled="on",
        notes="Rappeler lundi",
    )
    assert location(again) == f"/therapist/patients/{patient.id}"


def test_a_colleagues_patient_is_not_found(space: Space) -> None:
    theirs = add_patient(space.store, "marc", "Jean", "Dupont", "jean@example.org")
    client = logged_in(space)
    assert client.get(f"/therapist/patients/{theirs.id}").status_code == 404
    assert client.get(f"/therapist/patients/{theirs.id}/edit").status_code == 404
    mine = add_patient(space.store, "anne")
    form = client.get(f"/therapist/patients/{mine.id}/edit")
    answer = post_form(
        client,
        form,
        f"/therapist/patients/{mine.id}/edit",
        first_name="X",
        last_name="Y",
        language="fr",
    )
    assert answer.status_code == 303  # its own form works
    forged = client.post(
        f"/therapist/patients/{theirs.id}/edit",
        data={**token(client), "first_name": "X", "last_name": "Y", "language": "fr"},
    )
    assert forged.status_code == 404
    with space.store.read() as tx:
        stored = tx.patient(theirs.id)
    assert stored is not None
    assert stored.first_name == "Jean"
    assert client.get("/therapist/patients/999999").status_code == 404


def token(client: FlaskClient) -> dict[str, str]:
    """The session's CSRF token, from any form of the space."""
    return dict(form_fields(client.get("/therapist/agenda"), "/therapist/logout"))


def test_the_patient_page_shows_their_appointments_with_this_therapist_only(space: Space) -> None:
    past = booked_online(space, "anne", "Léa", "Favre", "2026-11-04 14:00", now="2026-11-01 08:00")
    lea = patient_of(space, past)
    upcoming = booked_online(space, "anne", "Léa", "Favre", "2026-12-02 14:00")
    elsewhere = booked_online(space, "marc", "Léa", "Favre", "2026-12-03 09:00")
    assert patient_of(space, elsewhere).id == lea.id  # the same patient, with Marc too
    page = logged_in(space).get(f"/therapist/patients/{lea.id}")
    assert element(page, "upcoming") == "mercredi 2 décembre 2026, 14:00 · Séance (75 min)"
    assert element(page, "past") == "mercredi 4 novembre 2026, 14:00 · Séance (75 min)"
    assert upcoming.uid in page.get_data(as_text=True)
    assert elsewhere.uid not in page.get_data(as_text=True)
    assert "3 décembre" not in text_of(page)


def test_reads_and_changes_are_audited_without_personal_data(space: Space) -> None:
    patient = add_patient(space.store, "anne")
    client = logged_in(space)
    client.get("/therapist/patients")
    client.get("/therapist/patients", query_string={"q": "Müller"})
    client.get(f"/therapist/patients/{patient.id}")
    client.get(f"/therapist/patients/{patient.id}/edit")
    post_form(client, client.get(NEW), NEW, **FORM)
    entries = audit_actions(space.store)
    actions = [
        (actor, action, subject)
        for actor, action, subject, _ in entries
        if action.startswith("patient.")
    ]
    subject = f"patient:{patient.id}"
    assert actions[:4] == [
        ("anne", "patient.list", "therapist:anne"),
        ("anne", "patient.search", "therapist:anne"),
        ("anne", "patient.read", subject),
        ("anne", "patient.open_form", subject),
    ]
    assert actions[-1][:2] == ("anne", "patient.create")
    written = " ".join(" ".join(entry) for entry in entries)
    for personal in ("Müller", "Zoë", "zoe@", "4179", "Élise", "latex"):
        assert personal not in written


def message_rows(page: TestResponse) -> list[tuple[int, str]]:
    found = re.findall(r'<tr id="message-(\d+)" class="state-(\w+)">', page.get_data(as_text=True))
    return [(int(entry_id), state) for entry_id, state in found]


def test_the_delivery_log_shows_this_therapists_messages_to_the_patient(
    practice_toml: Path, database_url: str
) -> None:
    """Zoë sees Anne and Marc: Anne's page lists her confirmation and her SMS reminder (the
    number refused), Marc's only his confirmation; neither lists their own notices."""
    with patient_scene(practice_toml, database_url) as scene:
        practice = scene.practice
        with_anne = practice.book("2026-12-02 14:00", ZOE).appointment
        with_marc = practice.book("2026-12-03 09:00", ZOE, therapist="marc").appointment
        practice.run_until_quiet()
        scene.twilio.refuse(ZOE.phone or "", 21211, "The 'To' number is not a valid phone number.")
        practice.run_until_quiet(at("2026-12-01 15:00"))  # the reminder of Anne's is due
        zoe = scene.patient_id(with_anne.uid)
        anne = scene.therapist("anne").get(f"/therapist/patients/{zoe}")
        marc = scene.therapist("marc").get(f"/therapist/patients/{zoe}")
        with scene.store.read() as tx:
            of_anne = {e.id: e for e in tx.outbox_entries(with_anne.uid)}
            of_marc = {e.id: e for e in tx.outbox_entries(with_marc.uid)}
        audit = audit_actions(scene.store)
    (reminder, failed), (confirmation, sent) = message_rows(anne)
    assert (failed, sent) == ("failed", "sent")
    assert (of_anne[reminder].template, of_anne[confirmation].template) == (
        "sms_reminder",
        "booked_patient",
    )
    assert element(anne, f"message-{reminder}") == (
        "mardi 1 décembre 2026, 15:00 SMS Rappel +41•••••••33 échec "
        "Le numéro a été refusé : il est peut-être faux ou n’est pas un mobile."
    )
    assert element(anne, f"message-{confirmation}") == (
        "lundi 30 novembre 2026, 08:00 E-mail Confirmation de réservation z•••@example.org "
        "envoyé (lundi 30 novembre 2026, 08:00)"
    )
    assert "cabinet-du-lac.example" not in element(anne, "messages")  # her own notices
    ((marcs, state),) = message_rows(marc)
    assert (marcs in of_marc, state, of_marc[marcs].template) == (True, "sent", "booked_patient")
    assert ("anne", "patient.read", f"patient:{zoe}", "messages=2") in audit
    assert ("marc", "patient.read", f"patient:{zoe}", "messages=1") in audit


def test_a_patient_without_messages_has_an_empty_delivery_log(space: Space) -> None:
    patient = add_patient(space.store, "anne")
    page = logged_in(space).get(f"/therapist/patients/{patient.id}")
    assert element(page, "no-messages") == "Aucun message pour l’instant."

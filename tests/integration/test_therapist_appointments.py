"""The therapist's appointments, on SQLite and PostgreSQL: book for a patient at a free time or
at a time of one's choosing after confirming its warnings, move, cancel, the SMS reminder;
each written with the event, the appointment row and a change row whose actor is the
therapist; stale forms get a conflict; a colleague's appointment is a 404.

Anne works on Wednesdays 14:00-18:00; "seance-75" is a fixed chain of 75 minutes (14:00,
15:15, 16:30, 17:45). The clock is Monday 30 November 2026, 08:00.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from bridge_server.notifications import build_watcher
from caldav_bridge.booking import BookingRequest, book, reschedule
from caldav_bridge.ical import load_calendar
from caldav_bridge.store import Appointment, Patient, PatientDetails, Store
from tests.integration.test_therapist_support import (
    Space,
    add_patient,
    appointment_of,
    at,
    audit_actions,
    form_fields,
    logged_in,
    post_form,
    therapist_space,
    uid_from,
)
from tests.support.calendars import event, put_ics
from tests.support.notify import ENVIRON
from tests.support.web import NOW, attribute, element, location, text_of

NEW = "/therapist/appointments/new"
ANNE = "anne/appointments"


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return therapist_space(store, practice_toml)


@pytest.fixture
def patient(space: Space) -> Patient:
    return add_patient(space.store, "anne")


def booking_page(
    client: FlaskClient, patient: Patient, day: str = "2026-12-02", service: str = "seance-75"
) -> TestResponse:
    page = client.get(NEW, query_string={"patient": patient.id, "service": service, "day": day})
    assert page.status_code == 200
    return page


def book_free_time(client: FlaskClient, page: TestResponse, slot: str) -> TestResponse:
    return post_form(client, page, NEW, "free-times", start=attribute(page, slot, "value") or "")


def book_other_time(client: FlaskClient, page: TestResponse, day: str, time: str) -> TestResponse:
    return post_form(client, page, NEW, "other-time", date=day, time=time)


def confirm(client: FlaskClient, page: TestResponse, action: str) -> TestResponse:
    assert page.status_code == 200, page.status_code
    return post_form(client, page, action)


def patient_booking(space: Space, start: str, email: str = "lea@example.org") -> Appointment:
    details = PatientDetails("Léa", "Favre", email, "+41791112233", "fr")
    request = BookingRequest("seance-75", "anne", at(start), details, consent=True)
    return book(space.store, space.web.runtime.config, request, NOW).appointment


def appointment_count(store: Store) -> int:
    with store.read() as tx:
        return len([c for c in tx.changes_after(0) if c.op == "put" and c.actor != "test"])


def changes(store: Store, uid: str) -> list[tuple[str, str]]:
    with store.read() as tx:
        return [(c.op, c.actor) for c in tx.changes_since(ANNE, 0) if c.uid == uid]


def event_start(store: Store, appointment: Appointment) -> str:
    with store.read() as tx:
        item = tx.item(appointment.collection_path, appointment.href)
    assert item is not None
    vevent = load_calendar(item.text).walk("VEVENT")[0]
    return str(vevent.decoded("DTSTART").isoformat())


# -- booking ---------------------------------------------------------------------------------


def test_finding_the_patient_then_booking_a_free_time(space: Space, patient: Patient) -> None:
    client = logged_in(space)
    search = client.get(NEW, query_string={"q": "muller"})
    assert element(search, "patient-results") == "Müller Zoë zoe@example.org · +41791234567"
    chosen = client.get(attribute(search, f"choose-patient-{patient.id}", "href") or "")
    assert element(chosen, "booking-patient").startswith("Zoë Müller")
    page = booking_page(client, patient)
    assert element(page, "free-times") == "14:00 15:15 16:30 17:45"
    answer = book_free_time(client, page, "slot-1515")
    uid = uid_from(answer)
    shown = client.get(location(answer))
    assert "Le rendez-vous est réservé." in text_of(shown)
    assert element(shown, "appointment-time") == "15:15–16:30"
    assert element(shown, "appointment-booked-by") == "vous"
    stored = appointment_of(space.store, uid)
    assert (stored.therapist, stored.patient_id, stored.service) == (
        "anne",
        patient.id,
        "seance-75",
    )
    assert (stored.start_at, stored.end_at) == (at("2026-12-02 15:15"), at("2026-12-02 16:30"))
    assert (stored.status, stored.created_by, stored.version) == ("confirmed", "anne", 1)
    assert event_start(space.store, stored) == "2026-12-02T15:15:00+01:00"
    assert changes(space.store, uid) == [("put", "anne")]


def test_a_time_outside_the_free_times_is_booked_only_once_confirmed(
    space: Space, patient: Patient
) -> None:
    client = logged_in(space)
    page = booking_page(client, patient)
    question = book_other_time(client, page, "2026-12-02", "12:30")
    assert question.status_code == 200
    assert element(question, "warning-outside").startswith(
        "Ce n’est pas l’un de vos horaires libres pour cette prestation"
    )
    assert element(question, "checked-clock") == "12:30–13:45"
    assert appointment_count(space.store) == 0  # nothing yet
    answer = confirm(client, question, NEW)
    stored = appointment_of(space.store, uid_from(answer))
    assert stored.start_at == at("2026-12-02 12:30")
    assert changes(space.store, stored.uid) == [("put", "anne")]


def test_an_overlapping_event_is_named_before_booking_over_it(
    space: Space, patient: Patient
) -> None:
    put_ics(space.store, ANNE, event("supervision", "20261202T143000", "20261202T153000"))
    client = logged_in(space)
    question = book_other_time(client, booking_page(client, patient), "2026-12-02", "14:00")
    assert element(question, "overlaps") == "14:30–15:30 Private"
    assert "warning-outside" in question.get_data(as_text=True)  # 14:00 is busy: not free
    confirmed = form_fields(question, NEW).getlist("confirm")
    assert len(confirmed) == 2
    stored = appointment_of(space.store, uid_from(confirm(client, question, NEW)))
    assert stored.start_at == at("2026-12-02 14:00")
    day = client.get("/therapist/agenda?view=day&date=2026-12-02")
    assert "14:00–15:15 Séance (75 min) – Zoë Müller" in element(day, "day-2026-12-02")
    assert "14:30–15:30 Private" in element(day, "day-2026-12-02")


def test_a_new_overlap_after_the_question_is_asked_again(space: Space, patient: Patient) -> None:
    client = logged_in(space)
    question = book_other_time(client, booking_page(client, patient), "2026-12-02", "12:30")
    put_ics(space.store, ANNE, event("lunch", "20261202T120000", "20261202T130000"))
    again = confirm(client, question, NEW)
    assert again.status_code == 200
    assert element(again, "overlaps") == "12:00–13:00 Private"
    assert appointment_count(space.store) == 1  # only the lunch
    stored = appointment_of(space.store, uid_from(confirm(client, again, NEW)))
    assert stored.start_at == at("2026-12-02 12:30")


def test_a_free_time_taken_meanwhile_is_not_booked_over(space: Space, patient: Patient) -> None:
    client = logged_in(space)
    page = booking_page(client, patient)
    taken = patient_booking(space, "2026-12-02 15:15")
    question = book_free_time(client, page, "slot-1515")
    assert question.status_code == 200
    assert element(question, "overlaps") == "15:15–16:30 Séance (75 min) – Léa Favre"
    with space.store.read() as tx:
        assert len(tx.therapist_appointments_of_patient("anne", patient.id)) == 0
    assert appointment_of(space.store, taken.uid).status == "confirmed"


def test_a_form_sent_twice_books_once(space: Space, patient: Patient) -> None:
    client = logged_in(space)
    page = booking_page(client, patient)
    first = book_free_time(client, page, "slot-1400")
    second = book_free_time(client, page, "slot-1400")
    assert location(first) == location(second)
    with space.store.read() as tx:
        assert len(tx.therapist_appointments_of_patient("anne", patient.id)) == 1


@pytest.mark.parametrize(
    ("day", "time", "field", "message"),
    [
        ("", "", "time", "Veuillez choisir un horaire libre ou saisir une date et une heure."),
        ("2026-12-02", "", "time", "Veuillez saisir une heure, par exemple 14:30."),
        ("2026-12-02", "25:99", "time", "Veuillez saisir une heure, par exemple 14:30."),
        ("2026-02-30", "10:00", "date", "Veuillez saisir une date, par exemple 2026-12-02."),
        (
            "2026-11-27",
            "10:00",
            "time",
            "Cet horaire est déjà passé. Veuillez en choisir un autre.",
        ),
        (
            "2027-03-28",
            "02:30",
            "time",
            "Cette heure n’existe pas ce jour-là : c’est le changement d’heure. "
            "Veuillez en choisir une autre.",
        ),
    ],
)
def test_a_wrong_date_or_time_gets_a_message_and_books_nothing(
    space: Space, patient: Patient, day: str, time: str, field: str, message: str
) -> None:
    client = logged_in(space)
    page = booking_page(client, patient)
    answer = book_other_time(client, page, day, time)
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    assert attribute(answer, field, "aria-invalid") == "true"
    assert appointment_count(space.store) == 0


def test_an_unknown_service_gets_a_message(space: Space, patient: Patient) -> None:
    client = logged_in(space)
    page = booking_page(client, patient)
    answer = post_form(
        client, page, NEW, "other-time", service="nope", date="2026-12-02", time="14:00"
    )
    assert answer.status_code == 422
    assert element(answer, "service-error") == "Veuillez choisir l’une de vos prestations."
    assert appointment_count(space.store) == 0


def test_messages_follow_the_pages_language(space: Space, patient: Patient) -> None:
    client = logged_in(space)
    page = booking_page(client, patient)
    client.post("/language", data={**form_fields(page, "/language"), "lang": "de"})
    answer = book_other_time(client, booking_page(client, patient), "", "")
    assert element(answer, "time-error") == (
        "Bitte wählen Sie eine freie Zeit oder geben Sie Datum und Uhrzeit ein."
    )


# -- moving, cancelling, the SMS reminder -------------------------------------------------------


def test_moving_to_a_free_time(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    client = logged_in(space)
    move_page = client.get(f"/therapist/appointments/{appointment.uid}/move?day=2026-12-03")
    assert "14:00" in element(move_page, "free-times")
    action = f"/therapist/appointments/{appointment.uid}/move"
    answer = post_form(
        client,
        move_page,
        action,
        "free-times",
        start=attribute(move_page, "slot-1400", "value") or "",
    )
    assert location(answer) == f"/therapist/appointments/{appointment.uid}"
    assert "Le rendez-vous a été déplacé." in text_of(client.get(location(answer)))
    moved = appointment_of(space.store, appointment.uid)
    assert (moved.start_at, moved.end_at, moved.version) == (
        at("2026-12-03 14:00"),
        at("2026-12-03 15:15"),
        2,
    )
    assert event_start(space.store, moved) == "2026-12-03T14:00:00+01:00"
    assert changes(space.store, appointment.uid) == [("put", "patient"), ("put", "anne")]


def test_moving_to_a_time_of_ones_choosing_once_confirmed(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    client = logged_in(space)
    action = f"/therapist/appointments/{appointment.uid}/move"
    move_page = client.get(action)
    question = post_form(client, move_page, action, "other-time", date="2026-12-03", time="12:15")
    assert question.status_code == 200
    assert element(question, "checked-now") == "mercredi 2 décembre 2026, 14:00"
    assert appointment_of(space.store, appointment.uid).version == 1
    answer = confirm(client, question, action)
    assert location(answer) == f"/therapist/appointments/{appointment.uid}"
    moved = appointment_of(space.store, appointment.uid)
    assert (moved.start_at, moved.version) == (at("2026-12-03 12:15"), 2)
    assert changes(space.store, appointment.uid) == [("put", "patient"), ("put", "anne")]


def test_a_move_from_a_stale_form_gets_a_conflict(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    client = logged_in(space)
    action = f"/therapist/appointments/{appointment.uid}/move"
    move_page = client.get(action + "?day=2026-12-03")
    config = space.web.runtime.config
    reschedule(
        space.store,
        config,
        appointment.uid,
        1,
        at("2026-12-02 16:30"),
        NOW,
        "patient",
        enforce_cutoff=True,
    )
    answer = post_form(
        client,
        move_page,
        action,
        "free-times",
        start=attribute(move_page, "slot-1400", "value") or "",
    )
    assert answer.status_code == 409
    assert element(answer, "conflict").startswith("Ce rendez-vous a été modifié entre-temps")
    assert element(answer, "appointment-time") == "16:30–17:45"
    current = appointment_of(space.store, appointment.uid)
    assert (current.start_at, current.version) == (at("2026-12-02 16:30"), 2)


def test_cancelling(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    client = logged_in(space)
    shown = client.get(f"/therapist/appointments/{appointment.uid}")
    question = client.get(attribute(shown, "cancel", "href") or "")
    action = f"/therapist/appointments/{appointment.uid}/cancel"
    answer = post_form(client, question, action)
    page = client.get(location(answer))
    assert "Le rendez-vous a été annulé." in text_of(page)
    assert element(page, "appointment-status") == "annulé"
    assert 'id="move"' not in page.get_data(as_text=True)
    stored = appointment_of(space.store, appointment.uid)
    assert (stored.status, stored.version) == ("cancelled", 2)
    with space.store.read() as tx:
        assert tx.item(ANNE, appointment.href) is None
    assert changes(space.store, appointment.uid) == [("put", "patient"), ("delete", "anne")]


def test_a_cancel_from_a_stale_form_gets_a_conflict(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    client = logged_in(space)
    action = f"/therapist/appointments/{appointment.uid}/cancel"
    question = client.get(action)
    config = space.web.runtime.config
    reschedule(
        space.store,
        config,
        appointment.uid,
        1,
        at("2026-12-02 16:30"),
        NOW,
        "patient",
        enforce_cutoff=True,
    )
    answer = post_form(client, question, action)
    assert answer.status_code == 409
    assert appointment_of(space.store, appointment.uid).status == "confirmed"


def test_the_sms_reminder_of_one_appointment(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    client = logged_in(space)
    page = client.get(f"/therapist/appointments/{appointment.uid}")
    assert element(page, "appointment-sms") == "activé"
    action = f"/therapist/appointments/{appointment.uid}/sms"
    off = client.get(location(post_form(client, page, action)))
    assert element(off, "appointment-sms") == "désactivé"
    assert not appointment_of(space.store, appointment.uid).sms_enabled
    assert appointment_of(space.store, appointment.uid).version == 1  # the patient's link works
    on = client.get(location(post_form(client, off, action)))
    assert element(on, "appointment-sms") == "activé"
    assert ("anne", "appointment.sms_off", f"appointment:{appointment.uid}", "") in audit_actions(
        space.store
    )


def test_a_begun_appointment_is_no_longer_moved_or_cancelled(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    space.web.clock.now = at("2026-12-02 13:50")
    client = logged_in(space)
    question = client.get(f"/therapist/appointments/{appointment.uid}/cancel")
    space.web.clock.now = at("2026-12-02 14:05")
    answer = post_form(client, question, f"/therapist/appointments/{appointment.uid}/cancel")
    page = client.get(location(answer))
    assert "Ce rendez-vous a commencé" in element(page, "started")
    assert 'id="cancel"' not in page.get_data(as_text=True)
    assert appointment_of(space.store, appointment.uid).status == "confirmed"


def test_the_patient_is_informed_of_each_change_by_the_watcher(space: Space) -> None:
    """The notices come from the change log (actor: the therapist), like any other change."""
    patient = add_patient(space.store, "anne")
    watcher = build_watcher(space.web.runtime, ENVIRON)
    client = logged_in(space)
    uid = uid_from(book_free_time(client, booking_page(client, patient), "slot-1400"))
    action = f"/therapist/appointments/{uid}/move"
    move_page = client.get(action + "?day=2026-12-03")
    post_form(client, move_page, action, "free-times", start=slot_value(move_page, "slot-1400"))
    cancel_action = f"/therapist/appointments/{uid}/cancel"
    post_form(client, client.get(cancel_action), cancel_action)
    watcher.run_once(space.web.clock())
    with space.store.read() as tx:
        sent = [(m.recipient, m.template) for m in tx.outbox_entries(uid) if m.channel == "email"]
    to_patient = [template for recipient, template in sent if recipient == patient.email]
    assert to_patient == ["booked_patient", "changed_patient", "cancelled_patient"]


def slot_value(page: TestResponse, slot: str) -> str:
    return attribute(page, slot, "value") or ""


# -- another therapist's -------------------------------------------------------------------


def test_a_colleagues_appointment_is_not_found(space: Space) -> None:
    details = PatientDetails("Jean", "Dupont", "jean@example.org", None, "fr")
    request = BookingRequest("seance-75", "marc", at("2026-12-02 09:00"), details, consent=True)
    theirs = book(space.store, space.web.runtime.config, request, NOW).appointment
    client = logged_in(space)
    for path in ("", "/move", "/cancel"):
        assert client.get(f"/therapist/appointments/{theirs.uid}{path}").status_code == 404
    token = form_fields(client.get("/therapist/agenda"), "/therapist/logout")["csrf_token"]
    for path, data in (
        ("/move", {"version": "1", "date": "2026-12-03", "time": "10:00"}),
        ("/cancel", {"version": "1"}),
        ("/sms", {"sms": "off"}),
    ):
        answer = client.post(
            f"/therapist/appointments/{theirs.uid}{path}", data={"csrf_token": token, **data}
        )
        assert answer.status_code == 404, path
    assert appointment_of(space.store, theirs.uid) == theirs
    assert "Dupont" not in text_of(client.get("/therapist/agenda?view=day&date=2026-12-02"))


def test_booking_for_a_colleagues_patient_is_not_found(space: Space) -> None:
    theirs = add_patient(space.store, "marc", "Jean", "Dupont", "jean@example.org")
    client = logged_in(space)
    assert client.get(NEW, query_string={"patient": theirs.id}).status_code == 404
    mine = add_patient(space.store, "anne")
    page = booking_page(client, mine)
    answer = post_form(
        client, page, NEW, "other-time", patient=str(theirs.id), date="2026-12-02", time="14:00"
    )
    assert answer.status_code == 404
    assert appointment_count(space.store) == 0
    assert "Dupont" not in text_of(client.get(NEW, query_string={"q": "Dupont"}))


def test_looking_at_an_appointment_is_audited(space: Space) -> None:
    appointment = patient_booking(space, "2026-12-02 14:00")
    logged_in(space).get(f"/therapist/appointments/{appointment.uid}")
    assert ("anne", "appointment.read", f"appointment:{appointment.uid}", "") in audit_actions(
        space.store
    )


def test_the_clock_is_the_practices(space: Space) -> None:
    """The default day of the booking form is today in the practice's zone."""
    patient = add_patient(space.store, "anne")
    space.web.clock.now = at("2026-12-01 23:50")
    client = logged_in(space)
    page = client.get(NEW, query_string={"patient": patient.id})
    assert element(page, "free-times-title") == "Créneaux libres le mardi 1 décembre 2026"
    space.web.clock.now += timedelta(minutes=20)
    page = client.get(NEW, query_string={"patient": patient.id})
    assert element(page, "free-times-title") == "Créneaux libres le mercredi 2 décembre 2026"

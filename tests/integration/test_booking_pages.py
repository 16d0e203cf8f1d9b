"""The patient's booking pages through Flask's test client, on SQLite and PostgreSQL.

What a patient does (service -> therapist -> week -> day -> slot -> details -> confirm) and
what they see, in their language; what the store holds afterwards; and every refusal: bad
fields, a slot taken meanwhile, a start that cannot be booked, CSRF, the honeypot, replays and
the rate limit. "Nothing changed" is checked on the store's change log and patient records.
"""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from booking_web.rate_limit import window_of
from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.ical import load_calendar
from caldav_bridge.manage_links import read_manage_token
from caldav_bridge.store import PatientDetails, Store
from tests.support.calendars import ZURICH, event, put_ics
from tests.support.web import (
    NOW,
    SECRET,
    WebApp,
    attribute,
    configure,
    element,
    hidden_fields,
    location,
    text_of,
    web_app,
)

ZOE = {
    "first_name": "Zoë",
    "last_name": "Müller-Ødegård",
    "email": "zoe@example.org",
    "phone": "079 123 45 67",
    "language": "fr",
    "message": "Première séance 🙏",
    "consent": "yes",
}
GERMAN = {"Accept-Language": "de-CH,de;q=0.9,en;q=0.5"}


@pytest.fixture
def web(store: Store, practice_toml: Path) -> WebApp:
    return web_app(store, practice_toml)


def open_day(
    client: FlaskClient, day: str, service: str = "seance-75", therapist: str = "anne"
) -> TestResponse:
    response = client.get(f"/book/{service}/{therapist}/?day={day}")
    assert response.status_code == 200
    return response


def open_details(
    client: FlaskClient,
    day: str = "2026-12-02",
    time: str = "1400",
    service: str = "seance-75",
    therapist: str = "anne",
) -> TestResponse:
    start = attribute(open_day(client, day, service, therapist), f"slot-{time}", "value")
    response = client.get(f"/book/{service}/{therapist}/details", query_string={"start": start})
    assert response.status_code == 200
    return response


def submit(client: FlaskClient, details: TestResponse, **changes: str | None) -> TestResponse:
    form = {**hidden_fields(details, "/book/confirm"), **ZOE, **changes}
    return client.post("/book/confirm", data={k: v for k, v in form.items() if v is not None})


def snapshot(store: Store) -> tuple[object, ...]:
    """What a booking would change: the change log and the patients."""
    with store.read() as tx:
        return (tuple(tx.changes_after(0)), tx.patients_count())


def nothing_stored(store: Store) -> bool:
    return snapshot(store) == ((), 0)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH)


def test_the_whole_flow_in_french(web: WebApp) -> None:
    client = web.client
    home = client.get("/")
    assert 'href="/book/"' in home.get_data(as_text=True)
    assert "Prendre rendez-vous" in text_of(home)

    services = client.get("/book/")
    assert element(services, "service-seance-75").startswith("Séance (75 min)")
    therapists = client.get("/book/seance-75/")
    assert [element(therapists, f"therapist-{t}") for t in ("any", "anne", "marc")] == [
        "Pas de préférence Le premier ou la première thérapeute disponible",
        "Anne Rochat",
        "Marc Favre",
    ]

    week = client.get("/book/seance-75/anne/")
    assert "Semaine du lundi 30 novembre 2026" in text_of(week)
    assert element(week, "day-2026-12-02") == "mer. 2 déc. 4 créneaux libres"
    assert element(week, "day-2026-12-05") == "sam. 5 déc. Aucun créneau libre"
    day = open_day(client, "2026-12-02")
    assert re.findall(r'id="slot-(\d+)"', day.get_data(as_text=True)) == [
        "1400",
        "1515",
        "1630",
        "1745",
    ]
    assert "Créneaux libres le mercredi 2 décembre 2026" in text_of(day)

    details = open_details(client)
    assert "mercredi 2 décembre 2026" in text_of(details)
    confirm = submit(client, details)
    assert confirm.status_code == 303
    confirmation = client.get(location(confirm))
    assert confirmation.status_code == 200
    assert element(confirmation, "appointment-date") == "mercredi 2 décembre 2026"
    assert element(confirmation, "appointment-time") == "14:00–15:15"
    assert element(confirmation, "appointment-duration") == "75 min"
    assert element(confirmation, "appointment-service") == "Séance (75 min)"
    assert element(confirmation, "appointment-therapist") == "Anne Rochat"
    assert element(confirmation, "appointment-place") == "Avenue de Rhodanie 58, 1007 Lausanne"
    assert element(confirmation, "appointment-patient") == "Zoë Müller-Ødegård"
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"

    ics = client.get(attribute(confirmation, "add-to-calendar", "href") or "")
    assert ics.status_code == 200
    assert ics.mimetype == "text/calendar"
    assert "attachment" in ics.headers["Content-Disposition"]
    vevent = load_calendar(ics.get_data(as_text=True)).walk("VEVENT")[0]
    assert vevent.decoded("DTSTART") == at("2026-12-02 14:00")
    assert vevent.decoded("DTEND") - vevent.decoded("DTSTART") == timedelta(minutes=75)
    assert str(vevent["SUMMARY"]) == "Séance (75 min) – Anne Rochat"
    assert str(vevent["LOCATION"]) == "Avenue de Rhodanie 58, 1007 Lausanne"
    assert "ATTENDEE" not in vevent
    assert "ORGANIZER" not in vevent
    for private in ("Zoë", "Müller", "zoe@example.org", "79 123", "Première"):
        assert private not in ics.get_data(as_text=True)

    with web.store.read() as tx:
        (change,) = tx.changes_after(0)
        stored = tx.appointment(change.uid or "")
        patient = tx.patient_of_appointment(change.uid or "")
    assert stored is not None
    assert patient is not None
    assert str(vevent["UID"]) != stored.uid  # the patient's copy is not the therapist's event
    assert (stored.therapist, stored.service, stored.start_at) == (
        "anne",
        "seance-75",
        at("2026-12-02 14:00"),
    )
    assert stored.message == "Première séance 🙏"
    assert (patient.first_name, patient.last_name, patient.email, patient.phone) == (
        "Zoë",
        "Müller-Ødegård",
        "zoe@example.org",
        "+41791234567",
    )
    assert patient.consent_at is not None
    therapist_event = load_calendar(change.new_text or "").walk("VEVENT")[0]
    assert str(therapist_event["SUMMARY"]) == "Séance (75 min) – Z. M."  # privacy: initials


def test_the_whole_flow_in_german(web: WebApp) -> None:
    client = web.client
    client.environ_base.update(HTTP_ACCEPT_LANGUAGE=GERMAN["Accept-Language"])
    week = client.get("/book/seance-75/anne/")
    assert '<html lang="de">' in week.get_data(as_text=True)
    assert "Woche ab Montag, 30. November 2026" in text_of(week)
    assert element(week, "day-2026-12-02") == "Mi., 2. Dez. 4 freie Termine"
    details = open_details(client)
    assert "Mittwoch, 2. Dezember 2026" in text_of(details)
    assert "Sitzung (75 Min.)" in text_of(details)
    confirmation = client.get(location(submit(client, details, language="de")))
    assert "Ihr Termin ist gebucht" in text_of(confirmation)
    assert element(confirmation, "appointment-date") == "Mittwoch, 2. Dezember 2026"
    assert element(confirmation, "appointment-service") == "Sitzung (75 Min.)"
    assert element(confirmation, "appointment-duration") == "75 Min."
    with web.store.read() as tx:
        (change,) = tx.changes_after(0)
        patient = tx.patient_of_appointment(change.uid or "")
    assert patient is not None
    assert patient.language == "de"


def test_the_language_switch_is_kept_for_the_visit(web: WebApp) -> None:
    client = web.client
    page = client.get("/book/", headers=GERMAN)
    assert "Termin buchen" in text_of(page)
    switch = hidden_fields(page, "/language")
    assert switch["next"] == "/book/"
    moved = client.post("/language", data={**switch, "lang": "it"})
    assert location(moved) == "/book/"
    again = client.get("/book/seance-75/", headers=GERMAN)
    assert '<html lang="it">' in again.get_data(as_text=True)
    assert "Con chi?" in text_of(again)
    assert attribute(again, "lang-it", "aria-current") == "true"


def test_the_language_switch_needs_the_forms_token(web: WebApp) -> None:
    refused = web.client.post("/language", data={"lang": "en", "next": "/book/"})
    assert refused.status_code == 400
    assert "Ce formulaire n’a pas pu être envoyé" in text_of(refused)
    assert "Prendre rendez-vous" in text_of(web.client.get("/book/"))


def test_the_language_switch_never_leaves_the_site(web: WebApp) -> None:
    page = web.client.get("/")
    switch = hidden_fields(page, "/language")
    targets = ("https://evil.example/", "//evil.example/", "/\\evil.example", "/\r\nX-A: b")
    for target in (*targets, "javascript:alert(1)"):
        moved = web.client.post("/language", data={**switch, "lang": "en", "next": target})
        assert location(moved) == "/"


def test_the_week_view_moves_within_the_horizon(web: WebApp) -> None:
    client = web.client
    first = client.get("/book/seance-75/anne/")
    assert "previous-week" not in first.get_data(as_text=True)  # nothing before this week
    following = client.get(attribute(first, "next-week", "href") or "")
    assert "Semaine du lundi 7 décembre 2026" in text_of(following)
    holidays = client.get("/book/seance-75/anne/?week=2026-12-28")
    assert "Il n’y a aucun créneau libre cette semaine" in text_of(holidays)
    last = client.get("/book/seance-75/anne/?week=2030-01-07")  # clamped to the horizon
    assert "Semaine du lundi 22 février 2027" in text_of(last)
    assert "next-week" not in last.get_data(as_text=True)


def test_a_full_week_opens_on_the_first_week_with_a_free_slot(web: WebApp) -> None:
    days = ["20261130", "20261201", "20261202", "20261203", "20261204"]
    for day in days:  # anne's whole first week is taken by private events
        put_ics(web.store, "anne/private", event(f"away-{day}", f"{day}T070000", f"{day}T190000"))
    week = web.client.get("/book/seance-75/anne/")
    assert "Semaine du lundi 7 décembre 2026" in text_of(week)


def test_any_therapist_lists_everyone_and_books_whoever_is_free(web: WebApp) -> None:
    client = web.client
    put_ics(web.store, "anne/private", event("busy", "20261204T090000", "20261204T120000"))
    day = open_day(client, "2026-12-04", therapist="any")
    starts = re.findall(r'id="slot-(\d+)"', day.get_data(as_text=True))
    # anne is away in the morning (her 08:00 would overlap): marc's slots, then both.
    assert starts == [
        "0900",
        "1015",
        "1130",
        "1330",
        "1400",
        "1445",
        "1515",
        "1600",
        "1630",
        "1745",
    ]
    details = open_details(client, "2026-12-04", "1015", therapist="any")
    assert "Le premier ou la première thérapeute disponible" in text_of(details)
    confirmation = client.get(location(submit(client, details)))
    assert element(confirmation, "appointment-therapist") == "Marc Favre"


def test_invalid_fields_are_explained_next_to_each_field(web: WebApp) -> None:
    client = web.client
    details = open_details(client)
    refused = submit(
        client,
        details,
        first_name="",
        last_name="  ",
        email="zoe@",
        phone="12",
        consent=None,
    )
    assert refused.status_code == 422
    assert element(refused, "first_name-error") == "Veuillez saisir votre prénom."
    assert element(refused, "last_name-error") == "Veuillez saisir votre nom."
    assert element(refused, "email-error").startswith("Veuillez saisir une adresse e-mail valable")
    assert element(refused, "phone-error").startswith("Veuillez saisir un numéro de mobile valable")
    assert element(refused, "consent-error").startswith("Veuillez accepter la déclaration")
    for field in ("first_name", "last_name", "email", "phone"):
        described = attribute(refused, field, "aria-describedby") or ""
        assert f"{field}-error" in described.split()
        assert attribute(refused, field, "aria-invalid") == "true"
    assert attribute(refused, "email", "value") == "zoe@"  # what was typed stays
    assert element(refused, "error-summary").startswith("Veuillez corriger ce qui suit")
    assert nothing_stored(web.store)


def test_switching_language_on_a_refused_form_reopens_the_form(web: WebApp) -> None:
    client = web.client
    refused = submit(client, open_details(client), phone="12")
    switch = hidden_fields(refused, "/language")
    form_again = client.get(location(client.post("/language", data={**switch, "lang": "de"})))
    assert form_again.status_code == 200
    assert "Ihre Angaben" in text_of(form_again)
    assert "Mittwoch, 2. Dezember 2026" in text_of(form_again)


def test_field_messages_follow_the_page_language(web: WebApp) -> None:
    client = web.client
    client.environ_base.update(HTTP_ACCEPT_LANGUAGE="it")
    refused = submit(client, open_details(client), phone="+41 12", first_name="")
    assert refused.status_code == 422
    assert element(refused, "first_name-error") == "Inserisca il Suo nome."
    assert element(refused, "phone-error").startswith("Inserisca un numero di cellulare valido")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("first_name", "Zoë\r\nATTENDEE:mailto:evil@example.org", "Veuillez retirer"),
        ("last_name", "Müller\nBCC: evil@example.org", "Veuillez retirer"),
        ("email", "zoe@example.org\r\nBCC: evil@example.org", "Veuillez retirer"),
        ("first_name", "Z" * 10_000, "à 100 caractères au plus"),
        ("message", "m" * 10_000, "à 1000 caractères au plus"),
        ("email", "a" * 10_000 + "@example.org", "à 254 caractères au plus"),
        ("phone", "+41 79 123 45 67 89", "numéro de mobile valable"),
        ("phone", "0041 1", "numéro de mobile valable"),
        ("language", "xx", "l’une des langues proposées"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_changes_nothing(
    web: WebApp, field: str, value: str, message: str
) -> None:
    refused = submit(web.client, open_details(web.client), **{field: value})
    assert refused.status_code == 422
    assert message in element(refused, f"{field}-error")
    assert nothing_stored(web.store)


def test_names_with_accents_and_emoji_round_trip_with_full_names(
    store: Store, practice_toml: Path
) -> None:
    configure(practice_toml, privacy='"full_name"')
    web = web_app(store, practice_toml)
    client = web.client
    confirmation = client.get(location(submit(client, open_details(client), first_name="Zoë 🌷")))
    assert element(confirmation, "appointment-patient") == "Zoë 🌷 Müller-Ødegård"
    with store.read() as tx:
        (change,) = tx.changes_after(0)
        patient = tx.patient_of_appointment(change.uid or "")
    assert patient is not None
    assert (patient.first_name, patient.last_name) == ("Zoë 🌷", "Müller-Ødegård")
    vevent = load_calendar(change.new_text or "").walk("VEVENT")[0]
    assert str(vevent["SUMMARY"]) == "Séance (75 min) – Zoë 🌷 Müller-Ødegård"
    assert sorted(vevent.keys()) == sorted(
        [
            "UID",
            "DTSTAMP",
            "DTSTART",
            "DTEND",
            "SUMMARY",
            "LOCATION",
            "DESCRIPTION",
            "URL",
            "STATUS",
            "TRANSP",
            "SEQUENCE",
        ]
    )


def test_a_slot_taken_meanwhile_leads_back_to_the_day(web: WebApp) -> None:
    client = web.client
    details = open_details(client, time="1515")
    other = PatientDetails("Paul", "Autre", "paul@example.org", None, "fr")
    start = at("2026-12-02 15:15")
    book(
        web.store,
        web.runtime.config,
        BookingRequest("seance-75", "anne", start, other, consent=True),
        NOW,
    )
    before = snapshot(web.store)
    refused = submit(client, details)
    assert location(refused) == "/book/seance-75/anne/?day=2026-12-02"
    day = client.get(location(refused))
    assert "cet horaire vient d’être réservé par quelqu’un d’autre" in text_of(day)
    assert "slot-1515" not in day.get_data(as_text=True)
    assert snapshot(web.store) == before


def test_a_private_event_hides_the_slot_and_refuses_its_details(web: WebApp) -> None:
    put_ics(web.store, "anne/private", event("dentist", "20261202T150000", "20261202T153000"))
    day = open_day(web.client, "2026-12-02")
    assert re.findall(r'id="slot-(\d+)"', day.get_data(as_text=True)) == ["1630", "1745"]
    start = "2026-12-02T15:15:00+01:00"
    response = web.client.get("/book/seance-75/anne/details", query_string={"start": start})
    assert location(response) == "/book/seance-75/anne/?day=2026-12-02"


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2026-12-02T14:15:00+01:00", "Cet horaire n’est pas proposé en ligne"),  # off the grid
        ("2026-11-30T09:15:00+01:00", "veuillez réserver au moins 2 heures à l’avance"),
        ("2026-11-27T14:00:00+01:00", "Cet horaire est déjà passé"),
        ("2027-06-02T14:00:00+02:00", "trop éloigné pour être réservé en ligne"),
        ("2026-12-02T14:00:00", "l’un des horaires affichés"),  # no offset: no instant
        ("tomorrow", "l’un des horaires affichés"),
    ],
)
def test_a_start_that_cannot_be_booked_is_explained(web: WebApp, start: str, message: str) -> None:
    response = web.client.get("/book/seance-75/anne/details", query_string={"start": start})
    assert response.status_code == 303
    assert message in text_of(web.client.get(location(response)))
    assert nothing_stored(web.store)


@pytest.mark.parametrize(
    ("later", "message"),
    [
        (timedelta(days=2, hours=7), "Cet horaire est déjà passé"),  # 15:00 on the day
        (timedelta(days=2, hours=4, minutes=30), "au moins 2 heures à l’avance"),
    ],
)
def test_a_form_left_open_too_long_is_refused_by_its_start(
    web: WebApp, later: timedelta, message: str
) -> None:
    client = web.client
    details = open_details(client)
    web.clock.now = NOW + later
    refused = submit(client, details)
    assert location(refused) == "/book/seance-75/anne/?day=2026-12-02"
    assert message in text_of(client.get(location(refused)))
    assert nothing_stored(web.store)


def test_a_tampered_form_is_refused(web: WebApp) -> None:
    client = web.client
    details = open_details(client)
    fields = hidden_fields(details, "/book/confirm")
    forged = fields["booking"][:-3] + ("AAA" if not fields["booking"].endswith("AAA") else "BBB")
    refused = client.post("/book/confirm", data={**ZOE, **fields, "booking": forged})
    assert location(refused) == "/book/"
    assert "Ce formulaire a expiré" in text_of(client.get("/book/"))
    assert nothing_stored(web.store)


def test_a_post_without_the_sessions_token_is_refused(web: WebApp) -> None:
    client = web.client
    details = open_details(client)
    fields = hidden_fields(details, "/book/confirm")
    without = client.post("/book/confirm", data={**ZOE, "booking": fields["booking"]})
    stranger = web.new_client()  # another browser: its session has another token
    forged = stranger.post("/book/confirm", data={**ZOE, **fields})
    for refused in (without, forged):
        assert refused.status_code == 400
        assert "Le formulaire a expiré ou a été envoyé depuis une autre page" in text_of(refused)
    assert nothing_stored(web.store)


def test_the_honeypot_refuses_quietly(web: WebApp) -> None:
    refused = submit(web.client, open_details(web.client), website="https://spam.example")
    assert refused.status_code == 200
    assert "Nous n’avons pas pu traiter cette demande en ligne" in text_of(refused)
    assert "+41 21 555 01 00" in text_of(refused)
    assert nothing_stored(web.store)


def test_a_replayed_form_books_once_and_shows_the_same_booking(web: WebApp) -> None:
    client = web.client
    details = open_details(client)
    first = submit(client, details)
    web.clock.now = NOW + timedelta(minutes=10)
    second = submit(client, details)
    assert booked_uid(location(first)) == booked_uid(location(second))
    assert client.get(location(second)).status_code == 200
    with web.store.read() as tx:
        assert tx.patients_count() == 1
        assert len(tx.items("anne/appointments")) == 1


def booked_uid(confirmation: str) -> str:
    """The appointment a confirmation URL shows (its token is signed with a timestamp)."""
    token = confirmation.rsplit("/", 1)[1]
    return read_manage_token(SECRET, token, timedelta(days=1)).uid


@pytest.mark.parametrize("therapist", ["anne", "any"])
def test_a_form_sent_twice_at_once_books_once(web: WebApp, therapist: str) -> None:
    details = open_details(web.client, therapist=therapist)
    form = {**hidden_fields(details, "/book/confirm"), **ZOE}
    cookie = web.client.get_cookie("session")
    assert cookie is not None
    clients = [web.new_client() for _ in range(4)]
    for client in clients:
        client.set_cookie("session", cookie.value)
    gate = threading.Barrier(len(clients))
    answers: list[str] = []

    def send(client: FlaskClient) -> None:
        gate.wait(30)
        answers.append(location(client.post("/book/confirm", data=form)))

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(answers) == len(clients)
    assert all(answer.startswith("/book/confirmed/") for answer in answers)
    assert len({booked_uid(answer) for answer in answers}) == 1
    with web.store.read() as tx:
        assert tx.patients_count() == 1
        booked = tx.items("anne/appointments") + tx.items("marc/appointments")
    assert len(booked) == 1


def test_the_rate_limit_refuses_then_forgives(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="3/minute")
    client = web.client
    details = open_details(client)
    for _ in range(3):
        assert submit(client, details, phone="12").status_code == 422
    refused = submit(client, details)
    assert refused.status_code == 429
    assert "Trop de tentatives" in text_of(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "secondes avant de réessayer" in text_of(refused)
    assert nothing_stored(store)
    web.clock.now = NOW + timedelta(minutes=1)
    assert submit(client, details).status_code == 303


def test_the_api_and_the_pages_share_one_limit(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="2/minute")
    client = web.client
    details = open_details(client)
    assert client.post("/api/v1/bookings", json={}).status_code == 422
    assert submit(client, details, phone="12").status_code == 422
    assert client.post("/api/v1/bookings", json={}).status_code == 429
    assert submit(client, details).status_code == 429


def test_off_means_no_limit(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="off")
    details = open_details(web.client)
    statuses = {submit(web.client, details, phone="12").status_code for _ in range(25)}
    assert statuses == {422}


def test_browsing_changes_nothing(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="10/minute")
    client = web.client
    pages = [
        "/",
        "/privacy",
        "/book/",
        "/book/seance-75/",
        "/book/seance-75/any/",
        "/book/seance-75/anne/?day=2026-12-02",
        "/book/seance-75/anne/details?start=2026-12-02T14:00:00%2B01:00",
    ]
    for page in pages:
        assert client.get(page).status_code == 200, page
    assert nothing_stored(web.store)
    with web.store.read() as tx:
        window = window_of(NOW, timedelta(minutes=1))[0]
        assert tx.rate_limit_hits("booking:127.0.0.1", window) == 0


@pytest.mark.parametrize(
    "path", ["/book/massage/", "/book/seance-75/paul/", "/book/seance-75-flex/marc/"]
)
def test_unknown_choices_are_not_found_in_the_visitors_language(web: WebApp, path: str) -> None:
    response = web.client.get(path, headers=GERMAN)
    assert response.status_code == 404
    assert "Seite nicht gefunden" in text_of(response)


def test_pages_state_their_language_and_label_their_inputs(web: WebApp) -> None:
    details = open_details(web.client)
    page = details.get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert 'href="#main"' in page
    assert 'id="main"' in page
    inputs = re.findall(r'<(?:input|textarea)\b[^>]*\bid="([^"]+)"', page)
    labelled = set(re.findall(r'<label for="([^"]+)"', page))
    assert inputs
    assert set(inputs) <= labelled
    assert "<legend>Langue de nos messages</legend>" in page
    assert attribute(details, "privacy-link", "href") == "/privacy"
    privacy = web.client.get("/privacy")
    assert "Déclaration de confidentialité" in text_of(privacy)
    assert "Cabinet du Lac" in text_of(privacy)


def test_book_pages_use_the_practice_time_zone_in_summer(web: WebApp) -> None:
    """A summer slot (CEST, +02:00) is shown at its local time."""
    web.clock.now = at("2026-04-20 08:00")  # a Monday in summer time
    day = open_day(web.client, "2026-04-22")
    starts = re.findall(r'id="slot-(\d+)"', day.get_data(as_text=True))
    assert starts == ["1400", "1515", "1630", "1745"]
    assert "+02:00" in (attribute(day, "slot-1400", "value") or "")

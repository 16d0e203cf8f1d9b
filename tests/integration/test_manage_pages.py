"""The patient's manage link, on SQLite and PostgreSQL: look (changes nothing), cancel and
reschedule by POST until the cut-off, and every kind of link that no longer works."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from werkzeug.test import TestResponse

from booking_web.manage import manage_url
from caldav_bridge.booking import BookingRequest, book
from caldav_bridge.ical import load_calendar
from caldav_bridge.manage_links import manage_token, read_manage_token
from caldav_bridge.store import Appointment, PatientDetails, Store
from tests.support.calendars import ZURICH
from tests.support.web import (
    NOW,
    WebApp,
    attribute,
    element,
    hidden_fields,
    location,
    text_of,
    web_app,
)

PUBLIC = "http://127.0.0.1:8080"
GERMAN = {"Accept-Language": "de"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH)


@pytest.fixture
def web(store: Store, practice_toml: Path) -> WebApp:
    return web_app(store, practice_toml)


def booked(
    web: WebApp,
    start: str = "2026-12-02 14:00",
    language: str = "fr",
    email: str = "zoe@example.org",
) -> Appointment:
    patient = PatientDetails("Zoë", "Müller-Ødegård", email, "+41791234567", language)
    request = BookingRequest("seance-75", "anne", at(start), patient, consent=True)
    return book(web.store, web.runtime.config, request, NOW).appointment


def link(web: WebApp, appointment: Appointment) -> str:
    return manage_url(web.runtime, appointment).removeprefix(PUBLIC)


def snapshot(store: Store, uid: str) -> tuple[object, ...]:
    with store.read() as tx:
        return (tuple(tx.changes_after(0)), tx.appointment(uid), tx.patients_count())


def slots(response: TestResponse) -> list[str]:
    return re.findall(r'id="slot-(\d+)"', response.get_data(as_text=True))


def test_the_page_shows_the_appointment_and_looking_changes_nothing(web: WebApp) -> None:
    appointment = booked(web)
    before = snapshot(web.store, appointment.uid)
    page = web.client.get(link(web, appointment))
    assert page.status_code == 200
    assert element(page, "appointment-date") == "mercredi 2 décembre 2026"
    assert element(page, "appointment-time") == "14:00–15:15"
    assert element(page, "appointment-service") == "Séance (75 min)"
    assert element(page, "appointment-therapist") == "Anne Rochat"
    assert element(page, "appointment-place") == "Avenue de Rhodanie 58, 1007 Lausanne"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    # Everything a mail scanner could follow from here:
    for target in ("reschedule", "cancel", "add-to-calendar"):
        followed = web.client.get(attribute(page, target, "href") or "")
        assert followed.status_code == 200, target
    week = web.client.get(link(web, appointment) + "/reschedule?day=2026-12-03")
    start = attribute(week, "slot-1400", "value")
    confirm = web.client.get(
        link(web, appointment) + "/reschedule/confirm", query_string={"start": start}
    )
    assert confirm.status_code == 200
    assert snapshot(web.store, appointment.uid) == before


def test_the_page_speaks_the_patients_language_unless_one_was_chosen(web: WebApp) -> None:
    appointment = booked(web, language="de")
    page = web.client.get(link(web, appointment))
    assert element(page, "appointment-date") == "Mittwoch, 2. Dezember 2026"
    assert "Diesen Termin absagen" in text_of(page)
    switch = hidden_fields(page, "/language")
    web.client.post("/language", data={**switch, "lang": "it"})
    again = web.client.get(link(web, appointment))
    assert element(again, "appointment-date") == "mercoledì 2 dicembre 2026"


def test_cancel_asks_then_cancels_by_post(web: WebApp) -> None:
    appointment = booked(web)
    path = link(web, appointment)
    question = web.client.get(path + "/cancel")
    assert "Annuler ce rendez-vous ?" in text_of(question)  # (a no-break space)
    answer = web.client.post(path + "/cancel", data=hidden_fields(question, path + "/cancel"))
    assert location(answer) == path
    page = web.client.get(path)
    assert "Ce rendez-vous a été annulé" in text_of(page)
    assert attribute(page, "book-again", "href") == "/book/"
    assert "reschedule" not in page.get_data(as_text=True)
    with web.store.read() as tx:
        stored = tx.appointment(appointment.uid)
        assert tx.item("anne/appointments", appointment.href) is None
        ops = [(c.op, c.actor) for c in tx.changes_since("anne/appointments", 0)]
    assert stored is not None
    assert stored.status == "cancelled"
    assert ops == [("put", "patient"), ("delete", "patient")]
    day = web.client.get("/book/seance-75/anne/?day=2026-12-02")
    assert "1400" in slots(day)  # the time is free again
    assert web.client.get(path + "/calendar.ics").status_code == 404


def test_cancel_without_the_forms_token_is_refused(web: WebApp) -> None:
    appointment = booked(web)
    before = snapshot(web.store, appointment.uid)
    refused = web.client.post(link(web, appointment) + "/cancel", data={})
    assert refused.status_code == 400
    assert snapshot(web.store, appointment.uid) == before


def test_reschedule_moves_the_appointment_and_retires_the_old_link(web: WebApp) -> None:
    appointment = booked(web)
    old = link(web, appointment)
    week = web.client.get(old + "/reschedule")
    assert "Semaine du lundi 30 novembre 2026" in text_of(week)
    day = web.client.get(attribute(week, "day-2026-12-03", "href") or "")
    assert slots(day) == ["0800", "0915", "1030", "1145", "1400", "1515", "1630", "1745"]
    start = attribute(day, "slot-1515", "value")
    confirm = web.client.get(old + "/reschedule/confirm", query_string={"start": start})
    assert element(confirm, "move-from") == "mercredi 2 décembre 2026, 14:00"
    assert element(confirm, "move-to") == "jeudi 3 décembre 2026, 15:15"
    moved = web.client.post(old + "/reschedule", data=hidden_fields(confirm, old + "/reschedule"))
    new = location(moved)
    assert new != old
    page = web.client.get(new)
    assert "Votre rendez-vous a été déplacé" in text_of(page)
    assert element(page, "appointment-date") == "jeudi 3 décembre 2026"
    assert element(page, "appointment-time") == "15:15–16:30"
    with web.store.read() as tx:
        stored = tx.appointment(appointment.uid)
        item = tx.item("anne/appointments", appointment.href)
    assert stored is not None
    assert item is not None
    assert (stored.start_at, stored.version) == (at("2026-12-03 15:15"), 2)
    assert load_calendar(item.text).walk("VEVENT")[0].decoded("DTSTART") == at("2026-12-03 15:15")
    assert new == link(web, stored)

    before = snapshot(web.store, appointment.uid)
    stale = web.client.get(old)
    assert stale.status_code == 410
    assert "Ce rendez-vous a changé" in text_of(stale)
    assert "Notre e-mail le plus récent contient le lien actuel" in text_of(stale)
    stale_cancel = web.client.post(old + "/cancel", data=hidden_fields(page, "/language"))
    assert stale_cancel.status_code == 410
    assert snapshot(web.store, appointment.uid) == before


def test_reschedule_offers_other_times_of_the_day_but_not_the_current_one(web: WebApp) -> None:
    appointment = booked(web)  # 2026-12-02 14:00, seance-75 with anne
    path = link(web, appointment)
    day = web.client.get(path + "/reschedule?day=2026-12-02")
    assert slots(day) == ["1515", "1630", "1745"]  # 14:00 is where it already is
    same = web.client.get(
        path + "/reschedule/confirm", query_string={"start": "2026-12-02T14:00:00+01:00"}
    )
    assert same.status_code in (302, 303)  # not a move: back to the week, nothing changes
    with web.store.read() as tx:
        stored = tx.appointment(appointment.uid)
    assert stored is not None
    assert stored.version == 1


def test_reschedule_to_a_time_taken_meanwhile_keeps_the_appointment(web: WebApp) -> None:
    appointment = booked(web)
    path = link(web, appointment)
    start = "2026-12-03T15:15:00+01:00"
    confirm = web.client.get(path + "/reschedule/confirm", query_string={"start": start})
    booked(web, "2026-12-03 15:15", email="paul@example.org")
    before = snapshot(web.store, appointment.uid)
    refused = web.client.post(
        path + "/reschedule", data=hidden_fields(confirm, path + "/reschedule")
    )
    assert location(refused) == path + "/reschedule?day=2026-12-03"
    day = web.client.get(location(refused))
    assert "Cet horaire n’est plus disponible" in text_of(day)
    assert snapshot(web.store, appointment.uid) == before


def test_past_the_cutoff_the_page_gives_the_phone_and_refuses_changes(web: WebApp) -> None:
    appointment = booked(web)
    path = link(web, appointment)
    page = web.client.get(path)
    cancel_form = hidden_fields(web.client.get(path + "/cancel"), path + "/cancel")
    start = "2026-12-03T15:15:00+01:00"
    move_form = hidden_fields(
        web.client.get(path + "/reschedule/confirm", query_string={"start": start}),
        path + "/reschedule",
    )
    web.clock.now = at("2026-12-01 15:00")  # 23 hours before
    before = snapshot(web.store, appointment.uid)
    page = web.client.get(path)
    assert "jusqu’à 24 heures avant le rendez-vous" in element(page, "cutoff")
    assert "+41 21 555 01 00" in element(page, "cutoff")
    assert 'id="cancel"' not in page.get_data(as_text=True)
    assert 'id="reschedule"' not in page.get_data(as_text=True)
    assert location(web.client.get(path + "/cancel")) == path
    assert location(web.client.post(path + "/cancel", data=cancel_form)) == path
    assert location(web.client.post(path + "/reschedule", data=move_form)) == path
    assert snapshot(web.store, appointment.uid) == before


def test_a_past_appointment_says_so(web: WebApp) -> None:
    appointment = booked(web)
    web.clock.now = at("2026-12-02 16:00")
    page = web.client.get(link(web, appointment))
    assert "Ce rendez-vous est passé." in element(page, "past")


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "eyJ1IjoieCIsInYiOjF9.aaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "",  # replaced by a damaged real token below
        "other-key",  # replaced by a token signed with another key
    ],
)
def test_a_forged_or_damaged_link_is_not_found_in_the_visitors_language(
    web: WebApp, token: str
) -> None:
    appointment = booked(web)
    real = manage_token(web.runtime.secret_key, appointment.uid, appointment.version)
    if token == "":
        middle = len(real) // 2
        token = real[:middle] + ("A" if real[middle] != "A" else "B") + real[middle + 1 :]
    elif token == "other-key":
        token = manage_token("another-secret", appointment.uid, appointment.version)
    for suffix in ("", "/cancel", "/reschedule", "/calendar.ics"):
        response = web.client.get(f"/manage/{token}{suffix}", headers=GERMAN)
        assert response.status_code == 404
        assert "Seite nicht gefunden" in text_of(response)


def test_an_expired_link_says_so(web: WebApp) -> None:
    appointment = booked(web)

    class LongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 200 * 24 * 3600  # older than horizon + 31 days

    serializer = URLSafeTimedSerializer(
        web.runtime.secret_key, salt="caldav-bridge.manage-link", signer=LongAgo
    )
    token = serializer.dumps({"u": appointment.uid, "v": appointment.version})
    response = web.client.get(f"/manage/{token}")
    assert response.status_code == 410
    assert "Ce lien a expiré" in text_of(response)
    assert "+41 21 555 01 00" in text_of(response)


def test_manage_url_is_the_public_address_of_the_current_version(web: WebApp) -> None:
    appointment = booked(web)
    url = manage_url(web.runtime, appointment)
    assert url.startswith(f"{PUBLIC}/manage/")
    target = read_manage_token(web.runtime.secret_key, url.rsplit("/", 1)[1], timedelta(days=121))
    assert (target.uid, target.version) == (appointment.uid, 1)


def test_changes_through_the_link_are_rate_limited(store: Store, practice_toml: Path) -> None:
    web = web_app(store, practice_toml, rate="1/minute")
    appointment = booked(web)
    path = link(web, appointment)
    form = hidden_fields(web.client.get(path + "/cancel"), path + "/cancel")
    assert web.client.post("/api/v1/bookings", json={}).status_code == 422
    refused = web.client.post(path + "/cancel", data=form)
    assert refused.status_code == 429
    with store.read() as tx:
        stored = tx.appointment(appointment.uid)
    assert stored is not None
    assert stored.status == "confirmed"


def test_a_repeated_move_or_cancel_changes_once_and_shows_the_outcome(web: WebApp) -> None:
    appointment = booked(web)
    path = link(web, appointment)
    start = "2026-12-03T15:15:00+01:00"
    confirm = web.client.get(path + "/reschedule/confirm", query_string={"start": start})
    move = hidden_fields(confirm, path + "/reschedule")
    first, second = (web.client.post(path + "/reschedule", data=move) for _ in range(2))
    new = location(first)
    assert location(second) == new != path
    assert element(web.client.get(new), "appointment-date") == "jeudi 3 décembre 2026"
    cancel_form = hidden_fields(web.client.get(new + "/cancel"), new + "/cancel")
    answers = [web.client.post(new + "/cancel", data=cancel_form) for _ in range(2)]
    assert [location(a) for a in answers] == [new, new]
    assert "Ce rendez-vous a été annulé" in text_of(web.client.get(new))
    with web.store.read() as tx:
        ops = [c.op for c in tx.changes_since("anne/appointments", 0)]
    assert ops == ["put", "put", "delete"]  # booked, moved once, cancelled once

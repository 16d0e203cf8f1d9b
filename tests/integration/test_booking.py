"""Booking, rescheduling and cancelling through the use-cases, on SQLite and PostgreSQL.

Races use real threads against one store: the per-therapist lock and the re-check inside
the write transaction must let exactly one booking of a slot through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from caldav_bridge.availability import find_slots, slot_query
from caldav_bridge.booking import (
    BookingRequest,
    ChangedError,
    CutoffPassedError,
    SlotTakenError,
    UnknownChoiceError,
    book,
    cancel,
    reschedule,
)
from caldav_bridge.config import Config
from caldav_bridge.config_loader import load_config
from caldav_bridge.ical import load_calendar
from caldav_bridge.store import PatientDetails, Store
from tests.support.calendars import ZURICH, ensure_calendar, event, put_ics

DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZURICH)
ZOE = PatientDetails("Zoë", "Müller-Ødegård", "zoe@example.org", "+41791234567", "fr")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH)


@pytest.fixture
def config() -> Config:
    return load_config(DEMO)


@pytest.fixture
def calendars(store: Store) -> Store:
    for login in ("anne", "marc"):
        ensure_calendar(store, f"{login}/appointments")
    return store


def request(
    start: str, service: str = "seance-75", therapist: str = "anne", patient: PatientDetails = ZOE
) -> BookingRequest:
    return BookingRequest(
        service, therapist, at(start), patient, consent=True, message="Première séance"
    )


def test_a_booking_writes_event_appointment_and_change_together(
    calendars: Store, config: Config
) -> None:
    booking = book(calendars, config, request("2026-12-02 15:15"), NOW, lambda: "uid-1")
    assert booking.appointment.start_at == at("2026-12-02 15:15")
    assert booking.appointment.end_at == at("2026-12-02 16:30")
    with calendars.read() as tx:
        item = tx.item("anne/appointments", "uid-1.ics")
        (change,) = tx.changes_after(0)
        stored = tx.appointment("uid-1")
        patient = tx.patient(booking.patient.id)
    assert item is not None
    assert (change.op, change.actor, change.new_text) == ("put", "patient", item.text)
    assert stored is not None
    assert (stored.therapist, stored.service, stored.status, stored.version) == (
        "anne",
        "seance-75",
        "confirmed",
        1,
    )
    assert stored.message == "Première séance"
    assert patient is not None
    assert (patient.first_name, patient.last_name) == ("Zoë", "Müller-Ødegård")
    assert patient.consent_at is not None
    vevent = load_calendar(item.text).walk("VEVENT")[0]
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
    assert str(vevent["SUMMARY"]) == "Séance (75 min) – Z. M."  # the demo's privacy: initials
    assert "Rhodanie" in str(vevent["LOCATION"])
    assert str(vevent["URL"]).endswith("/therapist/appointments/uid-1")


def test_a_returning_patient_is_not_duplicated(calendars: Store, config: Config) -> None:
    first = book(calendars, config, request("2026-12-02 14:00"), NOW)
    same_email = PatientDetails("Zoë", "Müller-Ødegård", "ZOE@example.org", None, "fr")
    same_phone = PatientDetails("zoë", "müller-ødegård", "new@example.org", "+41791234567", "de")
    second = book(calendars, config, request("2026-12-02 15:15", patient=same_email), NOW)
    third = book(calendars, config, request("2026-12-02 16:30", patient=same_phone), NOW)
    assert first.patient.id == second.patient.id == third.patient.id
    with calendars.read() as tx:
        assert tx.patients_count() == 1
        latest = tx.patient(first.patient.id)
    assert latest is not None
    assert (latest.email, latest.language) == ("new@example.org", "de")


@pytest.mark.parametrize(
    "start",
    [
        "2026-12-02 14:15",  # not on the fixed chain
        "2026-12-02 12:00",  # in the break
        "2026-11-30 09:00",  # within the two hours' notice (NOW is 08:00)
        "2026-11-27 14:00",  # in the past
        "2027-06-01 14:00",  # past the 90-day horizon
    ],
)
def test_only_an_offered_start_can_be_booked(calendars: Store, config: Config, start: str) -> None:
    with pytest.raises(SlotTakenError):
        book(calendars, config, request(start), NOW)
    with calendars.read() as tx:
        assert tx.changes_after(0) == []
        assert tx.patients_count() == 0


def test_unknown_choices_are_refused(calendars: Store, config: Config) -> None:
    with pytest.raises(UnknownChoiceError) as service:
        book(calendars, config, request("2026-12-02 14:00", service="massage"), NOW)
    assert service.value.field == "service"
    with pytest.raises(UnknownChoiceError) as therapist:
        book(
            calendars,
            config,
            request("2026-12-02 14:00", service="seance-75-flex", therapist="marc"),
            NOW,
        )
    assert therapist.value.field == "therapist"


def test_any_therapist_takes_whoever_is_free(calendars: Store, config: Config) -> None:
    put_ics(calendars, "anne/private", event("busy", "20261204T090000", "20261204T120000"))
    booking = book(calendars, config, request("2026-12-04 10:15", therapist="any"), NOW)
    assert booking.appointment.therapist == "marc"


def race(count: int, attempt: Callable[[int], object]) -> list[object]:
    results: list[object] = [None] * count
    gate = threading.Barrier(count)

    def run(i: int) -> None:
        gate.wait(30)
        try:
            results[i] = attempt(i)
        except SlotTakenError as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_twenty_concurrent_bookings_of_one_slot_make_exactly_one(
    calendars: Store, config: Config
) -> None:
    def attempt(i: int) -> object:
        patient = PatientDetails(f"P{i}", "Test", f"p{i}@example.org", None, "fr")
        return book(calendars, config, request("2026-12-02 15:15", patient=patient), NOW)

    results = race(20, attempt)
    taken = [r for r in results if isinstance(r, SlotTakenError)]
    assert len(taken) == 19
    with calendars.read() as tx:
        assert len(tx.items("anne/appointments")) == 1
        assert tx.patients_count() == 1


def test_overlapping_services_race_to_exactly_one(calendars: Store, config: Config) -> None:
    starts = [("seance-75-flex", "2026-12-02 14:00"), ("suivi-45", "2026-12-02 14:30")] * 5

    def attempt(i: int) -> object:
        service, start = starts[i]
        patient = PatientDetails(f"P{i}", "Test", f"p{i}@example.org", None, "fr")
        return book(calendars, config, request(start, service=service, patient=patient), NOW)

    results = race(len(starts), attempt)
    assert sum(not isinstance(r, SlotTakenError) for r in results) == 1
    with calendars.read() as tx:
        assert len(tx.items("anne/appointments")) == 1


def test_reschedule_moves_and_invalidates_older_links(calendars: Store, config: Config) -> None:
    booking = book(calendars, config, request("2026-12-02 14:00", service="seance-75-flex"), NOW)
    uid = booking.appointment.uid
    # 15 minutes later overlaps the appointment's own time: allowed, it is the one moving.
    moved = reschedule(
        calendars, config, uid, 1, at("2026-12-02 14:15"), NOW, "patient", enforce_cutoff=True
    )
    assert (moved.start_at, moved.version) == (at("2026-12-02 14:15"), 2)
    with calendars.read() as tx:
        item = tx.item("anne/appointments", f"{uid}.ics")
        assert [c.op for c in tx.changes_since("anne/appointments", 0)] == ["put", "put"]
    assert item is not None
    vevent = load_calendar(item.text).walk("VEVENT")[0]
    assert vevent.decoded("DTSTART") == at("2026-12-02 14:15")
    assert int(vevent["SEQUENCE"]) == 1
    with pytest.raises(ChangedError):
        cancel(calendars, config, uid, 1, NOW, "patient", enforce_cutoff=True)


def test_a_reschedule_to_a_taken_slot_keeps_the_old_time(calendars: Store, config: Config) -> None:
    mine = book(calendars, config, request("2026-12-02 14:00"), NOW)
    other = PatientDetails("Marc", "Autre", "autre@example.org", None, "fr")
    book(calendars, config, request("2026-12-02 15:15", patient=other), NOW)
    with pytest.raises(SlotTakenError):
        reschedule(
            calendars,
            config,
            mine.appointment.uid,
            1,
            at("2026-12-02 15:15"),
            NOW,
            "patient",
            enforce_cutoff=True,
        )
    with calendars.read() as tx:
        kept = tx.appointment(mine.appointment.uid)
    assert kept is not None
    assert (kept.start_at, kept.version) == (at("2026-12-02 14:00"), 1)


def test_reschedule_racing_a_new_booking_of_the_target_slot(
    calendars: Store, config: Config
) -> None:
    mine = book(calendars, config, request("2026-12-02 14:00"), NOW)
    target = "2026-12-02 16:30"

    def attempt(i: int) -> object:
        if i == 0:
            return reschedule(
                calendars,
                config,
                mine.appointment.uid,
                1,
                at(target),
                NOW,
                "patient",
                enforce_cutoff=True,
            )
        patient = PatientDetails("New", "Patient", "new@example.org", None, "fr")
        return book(calendars, config, request(target, patient=patient), NOW)

    results = race(2, attempt)
    assert sum(isinstance(r, SlotTakenError) for r in results) == 1
    with calendars.read() as tx:
        events = tx.items("anne/appointments")
        starts = sorted(load_calendar(i.text).walk("VEVENT")[0].decoded("DTSTART") for i in events)
    if isinstance(results[0], SlotTakenError):  # the new booking won: mine stays at 14:00
        assert starts == [at("2026-12-02 14:00"), at(target)]
    else:  # the reschedule won: 14:00 is free again, nothing else was written
        assert starts == [at(target)]


def test_cancel_frees_the_slot_and_respects_the_cutoff(calendars: Store, config: Config) -> None:
    booking = book(calendars, config, request("2026-12-02 14:00"), NOW)
    uid = booking.appointment.uid
    late = at("2026-12-01 15:00")  # 23 hours before: past the 24 h cut-off
    with pytest.raises(CutoffPassedError):
        cancel(calendars, config, uid, 1, late, "patient", enforce_cutoff=True)
    cancelled = cancel(calendars, config, uid, 1, late, "anne", enforce_cutoff=False)
    assert cancelled.status == "cancelled"
    with calendars.read() as tx:
        assert tx.item("anne/appointments", f"{uid}.ics") is None
        assert [c.op for c in tx.changes_since("anne/appointments", 0)] == ["put", "delete"]
    again = book(calendars, config, request("2026-12-02 14:00"), late - timedelta(hours=10))
    assert again.appointment.uid != uid


def test_booking_the_same_uid_twice_returns_the_first_booking(
    calendars: Store, config: Config
) -> None:
    first = book(calendars, config, request("2026-12-02 14:00"), NOW, lambda: "form-uid")
    replay = book(calendars, config, request("2026-12-02 14:00"), NOW, lambda: "form-uid")
    assert replay.appointment == first.appointment
    with calendars.read() as tx:
        assert len(tx.items("anne/appointments")) == 1


def test_twin_submissions_of_one_form_race_to_one_booking(calendars: Store, config: Config) -> None:
    results = race(
        4,
        lambda i: book(
            calendars, config, request("2026-12-02 14:00", therapist="any"), NOW, lambda: "twin"
        ),
    )
    assert all(not isinstance(r, SlotTakenError) for r in results)
    with calendars.read() as tx:
        assert [i.uid for i in tx.items("anne/appointments")] == ["twin"]


def test_a_rescheduling_patient_is_offered_times_overlapping_their_own(
    calendars: Store, config: Config
) -> None:
    booking = book(calendars, config, request("2026-12-02 14:00", service="seance-75-flex"), NOW)
    query = slot_query(config, "seance-75-flex", "anne", at("2026-12-02 00:00").date(), 1)
    with calendars.read() as tx:
        others = [s.start for s in find_slots(tx, config, query, NOW)]
        mine = [s.start for s in find_slots(tx, config, query, NOW, moving=booking.appointment.uid)]
    assert at("2026-12-02 14:15") not in others
    assert at("2026-12-02 14:15") in mine
    assert at("2026-12-02 14:00") in mine

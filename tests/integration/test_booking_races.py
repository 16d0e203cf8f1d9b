"""Races against running servers: one `serve` on SQLite, two `serve` processes on PostgreSQL.

Every path that changes a therapist's calendar (booking API, manage link, CalDAV) takes the
same per-therapist lock before it reads busy time, so commit order is decision order. The
change log's sequence is therefore the order in which the store saw the writes.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from caldav_bridge.store import Store
from caldav_bridge.store.database import DATABASE_URL_ENV, SQLITE_FILE
from tests.support.serve import run_cli, serving
from tests.support.web import configure, hidden_fields_in

PATIENT = {
    "first_name": "Zoë",
    "last_name": "Müller-Ødegård",
    "email": "zoe@example.org",
    "phone": "+41 79 123 45 67",
    "language": "fr",
}


class Practice:
    """Servers on one database, anne's password, and a store handle on the same database."""

    def __init__(self, urls: list[str], password: str, store: Store) -> None:
        self.urls = urls
        self.password = password
        self.store = store

    def url(self, i: int) -> str:
        return self.urls[i % len(self.urls)]

    def slots(self, service: str, days_ahead: int) -> list[dict[str, str]]:
        first = (datetime.now(UTC) + timedelta(days=days_ahead)).date().isoformat()
        params = {"service": service, "therapist": "anne", "from": first, "days": 7}
        answer = requests.get(f"{self.urls[0]}/api/v1/slots", params=params, timeout=60)
        assert answer.status_code == 200
        found = answer.json()
        assert isinstance(found, list)
        return found

    def book(self, i: int, service: str, start: str, email: str) -> requests.Response:
        body = {
            "service": service,
            "therapist": "anne",
            "start": start,
            "patient": {**PATIENT, "email": email},
            "consent": True,
        }
        return requests.post(f"{self.url(i)}/api/v1/bookings", json=body, timeout=120)


@pytest.fixture(params=["sqlite", "postgres"])
def practice(request: pytest.FixtureRequest, practice_toml: Path) -> Iterator[Practice]:
    configure(practice_toml, booking_rate_limit='"off"')
    if request.param == "sqlite":
        url, count = "", 1
        store_url = f"sqlite:///{practice_toml.parent.parent / 'var' / SQLITE_FILE}"
    else:
        url = store_url = str(request.getfixturevalue("postgres_url"))
        count = 2
    env = {DATABASE_URL_ENV: url}
    init = run_cli("--config", str(practice_toml), "init", "--demo", env=env)
    assert init.returncode == 0, init.stderr
    password = next(
        line.split(" / ")[1]
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: anne")
    )
    with serving(practice_toml, env, ["--no-watcher"]) as one:
        urls = [one]
        if count == 2:
            with serving(practice_toml, env, ["--no-watcher"]) as two:
                urls.append(two)
                store = Store.connect(store_url)
                yield Practice(urls, password, store)
                store.close()
                return
        store = Store.connect(store_url)
        yield Practice(urls, password, store)
        store.close()


def together(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls at the same moment in threads; their results in order."""
    results: list[Any] = [None] * len(calls)
    gate = threading.Barrier(len(calls))

    def run(i: int) -> None:
        gate.wait(30)
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    return results


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_overlapping_unequal_services_book_exactly_one(practice: Practice) -> None:
    flexible = practice.slots("seance-75-flex", 8)
    long_start = local(flexible[0]["start"])
    short_start = (long_start + timedelta(minutes=30)).isoformat()  # inside the 75 minutes
    calls = [
        (
            lambda i=i: practice.book(
                i, "seance-75-flex", long_start.isoformat(), f"a{i}@example.org"
            )
        )
        if i % 2 == 0
        else (lambda i=i: practice.book(i, "suivi-45", short_start, f"b{i}@example.org"))
        for i in range(10)
    ]
    answers = together(*calls)
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    with practice.store.read() as tx:
        assert len(tx.items("anne/appointments")) == 1


def caldav_put(practice: Practice, start: datetime, end: datetime) -> requests.Response:
    """Anne's phone writes a private event into her appointments calendar (allowed)."""
    uid = f"private-{uuid.uuid4()}"
    fmt = "%Y%m%dT%H%M%SZ"
    text = "\r\n".join(
        [
            "BEGIN:VCALENDAR",
            "VERSION:2.0",
            "PRODID:-//Apple Inc.//iOS 18.0//EN",
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261101T000000Z",
            f"DTSTART:{start.astimezone(UTC):{fmt}}",
            f"DTEND:{end.astimezone(UTC):{fmt}}",
            "SUMMARY:Dentiste",
            "END:VEVENT",
            "END:VCALENDAR",
            "",
        ]
    )
    return requests.put(
        f"{practice.url(1)}/dav/anne/appointments/{uid}.ics",
        data=text.encode(),
        headers={"Content-Type": "text/calendar; charset=utf-8", "If-None-Match": "*"},
        auth=("anne", practice.password),
        timeout=120,
    )


def test_a_booking_racing_a_private_event_never_lands_on_it(practice: Practice) -> None:
    """Never both an accepted booking and an overlapping event committed before it."""
    slots = practice.slots("seance-75", 10)[:6]  # several rounds on distinct slots
    for round_, slot in enumerate(slots):
        start, end = local(slot["start"]), local(slot["end"])
        booking, put = together(
            lambda s=slot["start"], r=round_: practice.book(0, "seance-75", s, f"r{r}@example.org"),
            lambda a=start, b=end: caldav_put(practice, a + timedelta(minutes=15), b),
        )
        assert put.status_code == 201  # a therapist may overlap on purpose
        assert booking.status_code in (201, 409)
        with practice.store.read() as tx:
            log = tx.changes_since("anne/appointments", 0)
        seq = {change.uid: change.seq for change in log if change.op == "put"}
        private = [uid for uid in seq if uid and uid.startswith("private-")][-1]
        if booking.status_code == 201:
            # The booking's re-check ran before the private event committed.
            assert seq[booking.json()["uid"]] < seq[private]
        else:
            assert booking.json() == {"error": "slot_taken"}


def test_a_reschedule_racing_a_new_booking_of_the_target_lets_one_win(practice: Practice) -> None:
    slots = practice.slots("seance-75", 12)
    mine = practice.book(0, "seance-75", slots[0]["start"], "mine@example.org")
    assert mine.status_code == 201
    manage = mine.json()["manage_url"].split("/manage/", 1)[1]
    target = slots[3]["start"]
    with requests.Session() as patient:
        confirm = patient.get(
            f"{practice.url(0)}/manage/{manage}/reschedule/confirm",
            params={"start": target},
            timeout=60,
        )
        assert confirm.status_code == 200
        fields = hidden_fields_in(confirm.text, f"/manage/{manage}/reschedule")

        moved, booked = together(
            lambda: patient.post(
                f"{practice.url(0)}/manage/{manage}/reschedule",
                data=fields,
                timeout=120,
                allow_redirects=False,
            ),
            lambda: practice.book(1, "seance-75", target, "rival@example.org"),
        )
    with practice.store.read() as tx:
        events = tx.items("anne/appointments")
        appointment = tx.appointment(mine.json()["uid"])
    assert appointment is not None
    moved_won = appointment.start_at == local(target)
    assert moved_won != (booked.status_code == 201)  # exactly one of them got the time
    assert len(events) == (1 if moved_won else 2)  # nothing lost, nothing left behind
    if moved_won:
        assert moved.status_code == 303
        assert booked.json() == {"error": "slot_taken"}
    else:
        assert appointment.start_at == local(slots[0]["start"])  # mine kept its time

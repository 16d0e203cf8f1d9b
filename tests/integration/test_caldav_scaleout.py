"""Two `caldav-bridge serve` processes on one PostgreSQL, driven by the real `caldav` client.

The scale-out of DESIGN.md §2: PostgreSQL is the only coordination point. Writes to both
processes at once are each stored once with one change row; a sync token handed out by one
process is understood by the other; two clients creating the same event at once on different
processes cannot both succeed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import caldav
import pytest
import requests
from defusedxml import ElementTree as DefusedET

from caldav_bridge.store import Change, Item, Store
from caldav_bridge.store.database import DATABASE_URL_ENV
from tests.support.dav import RawRequest
from tests.support.serve import run_cli, serving

CALENDAR = "anne/appointments"
CALENDAR_URL = "/dav/anne/appointments/"


def event(uid: str, day: int = 10, hour: int = 8) -> str:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//caldav-bridge tests//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T080000Z",
        f"DTSTART;TZID=Europe/Zurich:202612{day:02d}T{hour:02d}0000",
        f"DTEND;TZID=Europe/Zurich:202612{day:02d}T{hour:02d}5000",
        f"SUMMARY:{uid}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines)


@dataclass(frozen=True)
class Practice:
    """The demo practice served by two processes over one PostgreSQL database."""

    urls: tuple[str, str]
    password: str
    store: Store

    def client(self, process: int) -> caldav.DAVClient:
        return caldav.DAVClient(
            url=self.urls[process] + "/", username="anne", password=self.password
        )

    def items(self) -> list[Item]:
        with self.store.read() as tx:
            return tx.items(CALENDAR)

    def changes(self) -> list[Change]:
        with self.store.read() as tx:
            return tx.changes_since(CALENDAR, 0)


@pytest.fixture
def practice(practice_toml: Path, postgres_url: str) -> Iterator[Practice]:
    env = {DATABASE_URL_ENV: postgres_url}
    init = run_cli("--config", str(practice_toml), "init", "--demo", env=env)
    assert init.returncode == 0, init.stderr
    password = next(
        line.split(" / ")[1]
        for line in init.stdout.splitlines()
        if line.startswith("Demo login: anne")
    )
    store = Store.connect(postgres_url)
    with ExitStack() as stack:
        urls = tuple(
            stack.enter_context(serving(practice_toml, env, extra=["--no-watcher"]))
            for _ in range(2)
        )
        assert urls[0] != urls[1]
        yield Practice((urls[0], urls[1]), password, store)
    store.close()


def calendar_of(client: caldav.DAVClient) -> caldav.Calendar:
    (found,) = client.principal().calendars()
    return found


def in_threads(*work: Callable[[], None]) -> None:
    """Run each callable in its own thread, all at once; re-raise the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(work))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_concurrent_puts_to_both_processes_are_each_stored_once(practice: Practice) -> None:
    writers, each = 4, 5

    def writer(process: int, number: int) -> Callable[[], None]:
        def write() -> None:
            with practice.client(process) as client:
                calendar = calendar_of(client)
                for n in range(each):
                    calendar.save_event(event(f"p{process}-w{number}-{n}", hour=8 + n))

        return write

    in_threads(*(writer(p, w) for p in (0, 1) for w in range(writers)))
    expected = sorted(f"p{p}-w{w}-{n}" for p in (0, 1) for w in range(writers) for n in range(each))
    items = practice.items()
    assert sorted(item.uid for item in items) == expected
    assert len({item.href for item in items}) == len(expected)
    changes = practice.changes()
    assert sorted(c.uid or "" for c in changes) == expected
    assert {(c.op, c.actor, c.old_text) for c in changes} == {("put", "anne", None)}
    for process in (0, 1):  # each process sees every event, whichever process stored it
        with practice.client(process) as client:
            found = calendar_of(client).events()
        assert sorted(str(e.icalendar_component["UID"]) for e in found) == expected


def test_the_same_new_event_on_both_processes_at_once_is_created_once(
    practice: Practice,
) -> None:
    """Two devices create the same event (If-None-Match: *) at the same moment through
    different processes: one gets 201, the other 412, and one item and one change row stay."""
    rounds = 5
    for n in range(rounds):
        answers: dict[int, int] = {}
        in_threads(*(creating(practice, n, process, answers) for process in (0, 1)))
        assert sorted(answers.values()) == [201, 412], n
    assert sorted(item.href for item in practice.items()) == [
        f"race-{n}.ics" for n in range(rounds)
    ]
    assert sorted(c.href for c in practice.changes()) == [f"race-{n}.ics" for n in range(rounds)]


def creating(
    practice: Practice, n: int, process: int, answers: dict[int, int]
) -> Callable[[], None]:
    """A PUT that creates ``race-<n>.ics`` only if it does not exist yet (If-None-Match)."""

    def put() -> None:
        answers[process] = requests.put(
            f"{practice.urls[process]}{CALENDAR_URL}race-{n}.ics",
            data=event(f"race-{n}", day=11, hour=8 + n).encode(),
            headers={"Content-Type": "text/calendar", "If-None-Match": "*"},
            auth=("anne", practice.password),
            timeout=30,
        ).status_code

    return put


def sync_report(practice: Practice, process: int, token: str) -> tuple[str, dict[str, int]]:
    """The new token and each changed href's status (200 changed, 404 deleted), as DAVx5
    asks for them."""
    request = RawRequest.load("davx5_sync_collection.http", calendar=CALENDAR_URL, sync_token=token)
    answer = requests.request(
        request.method,
        practice.urls[process] + request.path,
        headers=request.headers,
        data=request.body.encode(),
        auth=("anne", practice.password),
        timeout=30,
    )
    assert answer.status_code == 207, answer.text
    root = DefusedET.fromstring(answer.content)
    statuses = {}
    for response in root.iter("{DAV:}response"):
        href = response.findtext("{DAV:}href") or ""
        status = response.findtext("{DAV:}status") or response.findtext(".//{DAV:}status") or ""
        statuses[href.rsplit("/", 1)[-1]] = int(status.split()[1])
    return root.findtext("{DAV:}sync-token") or "", statuses


def test_a_sync_token_from_one_process_works_on_the_other(practice: Practice) -> None:
    with practice.client(0) as first, practice.client(1) as second:
        on_first, on_second = calendar_of(first), calendar_of(second)
        kept = on_first.save_event(event("kept", hour=8))
        moved = on_first.save_event(event("moved", hour=9))
        gone = on_first.save_event(event("gone", hour=10))
        synced = on_first.objects_by_sync_token(load_objects=True)
        token = str(synced.sync_token)
        assert not token.startswith("fake-")  # the server's own token

        added = on_second.save_event(event("added", hour=11))
        changed = on_second.event_by_uid("moved")
        changed.data = event("moved", hour=15)
        changed.save()
        on_second.event_by_uid("gone").delete()

    name = lambda resource: str(resource.url).rsplit("/", 1)[-1]  # noqa: E731
    new_token, statuses = sync_report(practice, 1, token)
    assert statuses == {name(added): 200, name(moved): 200, name(gone): 404}
    assert name(kept) not in statuses
    # Both processes now agree that nothing changed since the second one's token.
    assert sync_report(practice, 0, new_token) == (new_token, {})
    assert sync_report(practice, 1, new_token) == (new_token, {})

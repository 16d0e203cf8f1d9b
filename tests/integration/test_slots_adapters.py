"""Slots through the `slots` command, `GET /api/v1/slots` and the store's busy time.

The engine's rules are tested in tests/unit; here: the documented answers end to end, busy
time read from real client-shaped calendars, and the query and error contracts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from booking_web import create_app
from caldav_bridge.availability import find_slots, slot_at, slot_query
from caldav_bridge.config_loader import load_config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Store
from tests.support.calendars import ZURICH, calendar_file, event, put_ics
from tests.support.serve import run_cli

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZURICH)
DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"


def local_starts(slots: list[dict[str, str]]) -> list[str]:
    return [datetime.fromisoformat(s["start"]).astimezone(ZURICH).strftime("%H:%M") for s in slots]


def starts(store: Store, service: str, therapist: str, day: str, days: int = 1) -> list[str]:
    config = load_config(DEMO)
    query = slot_query(config, service, therapist, date.fromisoformat(day), days)
    with store.read() as tx:
        found = find_slots(tx, config, query, NOW)
    return [f"{s.start.astimezone(ZURICH):%d %H:%M} {s.therapist}" for s in found]


def test_the_documented_answers_from_the_command_line(practice_toml: Path) -> None:
    assert run_cli("--config", str(practice_toml), "init").returncode == 0
    args = ["--config", str(practice_toml), "slots", "--therapist", "anne", "--from", "2026-12-02"]
    fixed = run_cli(
        *args, "--service", "seance-75", "--days", "1", "--now", "2026-11-30T08:00:00+01:00"
    )
    flexible = run_cli(
        *args, "--service", "seance-75-flex", "--days", "1", "--now", "2026-11-30T08:00:00+01:00"
    )
    assert fixed.returncode == 0, fixed.stderr
    slots = json.loads(fixed.stdout)
    assert slots == [
        {
            "start": f"2026-12-02T{a}:00+01:00",
            "end": f"2026-12-02T{b}:00+01:00",
            "therapist": "anne",
        }
        for a, b in [("14:00", "15:15"), ("15:15", "16:30"), ("16:30", "17:45"), ("17:45", "19:00")]
    ]
    every_quarter = [f"{h:02d}:{m:02d}" for h in range(14, 17) for m in (0, 15, 30, 45)]
    assert local_starts(json.loads(flexible.stdout)) == every_quarter
    assert len(every_quarter) == 12


def test_the_command_explains_bad_arguments(practice_toml: Path) -> None:
    assert run_cli("--config", str(practice_toml), "init").returncode == 0
    base = ["--config", str(practice_toml), "slots", "--from", "2026-12-02"]
    unknown = run_cli(*base, "--service", "massage")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == "caldav-bridge: --service: unknown service 'massage'"
    naive = run_cli(*base, "--service", "suivi-45", "--now", "2026-11-30T08:00")
    assert naive.returncode == 2
    assert "is not an instant; expected ISO 8601 with an offset" in naive.stderr


def test_any_therapist_is_the_union_naming_each_slots_therapist(store: Store) -> None:
    found = starts(store, "seance-75", "any", "2026-12-04")  # a Friday: both work
    assert found == [
        "04 08:00 anne",
        "04 09:00 marc",
        "04 09:15 anne",
        "04 10:15 marc",
        "04 10:30 anne",
        "04 11:30 marc",
        "04 11:45 anne",
        "04 13:30 marc",
        "04 14:00 anne",
        "04 14:45 marc",
        "04 15:15 anne",
        "04 16:00 marc",
        "04 16:30 anne",
        "04 17:45 anne",
    ]


def test_an_apple_weekly_event_blocks_its_occurrence(store: Store) -> None:
    # Apple Calendar: "Supervision" every Thursday 10:00-10:50 (Europe/Zurich) since March.
    put_ics(store, "anne/private", calendar_file("apple_weekly_supervision.ics"))
    found = starts(store, "seance-75", "anne", "2026-12-03")
    assert found == [
        "03 08:00 anne",
        "03 11:45 anne",
        "03 14:00 anne",
        "03 15:15 anne",
        "03 16:30 anne",
        "03 17:45 anne",
    ]


def test_private_events_block_whatever_calendar_they_are_in(store: Store) -> None:
    put_ics(store, "anne/appointments", event("one", "20261202T150000", "20261202T153000"))
    flexible = starts(store, "seance-75-flex", "anne", "2026-12-02")
    assert flexible == [
        f"02 {t} anne" for t in ("15:30", "15:45", "16:00", "16:15", "16:30", "16:45")
    ]


def test_transparent_and_cancelled_events_do_not_block(store: Store) -> None:
    put_ics(
        store,
        "anne/private",
        event("free", "20261202T140000", "20261202T180000", "TRANSP:TRANSPARENT"),
    )
    put_ics(
        store,
        "anne/private",
        event("off", "20261202T140000", "20261202T180000", "STATUS:CANCELLED"),
    )
    assert starts(store, "seance-75", "anne", "2026-12-02") == [
        "02 14:00 anne",
        "02 15:15 anne",
        "02 16:30 anne",
        "02 17:45 anne",
    ]


def test_one_therapists_events_do_not_block_another(store: Store) -> None:
    put_ics(store, "marc/appointments", event("m", "20261202T090000", "20261202T170000"))
    assert starts(store, "seance-75", "anne", "2026-12-02") == [
        "02 14:00 anne",
        "02 15:15 anne",
        "02 16:30 anne",
        "02 17:45 anne",
    ]
    assert starts(store, "seance-75", "marc", "2026-12-02") == []


def test_busy_time_is_one_query_for_the_whole_window(store: Store) -> None:
    for day in range(1, 29):
        put_ics(
            store,
            "anne/appointments",
            event(f"e{day}", f"202612{day:02d}T140000", f"202612{day:02d}T150000"),
        )
        put_ics(
            store,
            "marc/private",
            event(f"m{day}", f"202612{day:02d}T100000", f"202612{day:02d}T110000"),
        )
    statements: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", record)
    try:
        found = starts(store, "suivi-45", "any", "2026-12-01", days=28)
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", record)
    assert found, "there are free slots in four weeks"
    item_queries = [s for s in statements if "FROM items" in s]
    assert len(item_queries) == 1


@pytest.fixture
def api(database_url: str, practice_toml: Path) -> Iterator[FlaskClient]:
    store = Store.connect(database_url)
    runtime = Runtime(ConfigSource(practice_toml), store, "test-secret", lambda: NOW)
    yield create_app(runtime).test_client()
    store.close()


def test_the_api_answers_what_the_command_answers(api: FlaskClient) -> None:
    response = api.get("/api/v1/slots?service=seance-75&therapist=anne&from=2026-12-02&days=1")
    assert response.status_code == 200
    assert local_starts(response.get_json()) == ["14:00", "15:15", "16:30", "17:45"]
    assert response.get_json()[0] == {
        "start": "2026-12-02T14:00:00+01:00",
        "end": "2026-12-02T15:15:00+01:00",
        "therapist": "anne",
    }


@pytest.mark.parametrize(
    ("query", "status", "parameter"),
    [
        ("from=2026-12-02", 400, "service"),
        ("service=seance-75", 400, "from"),
        ("service=seance-75&from=02.12.2026", 400, "from"),
        ("service=seance-75&from=2026-12-02&days=-3", 400, "days"),
        ("service=seance-75&from=2026-12-02&days=0", 400, "days"),
        ("service=seance-75&from=2026-12-02&days=365", 400, "days"),
        ("service=massage&from=2026-12-02", 404, "service"),
        ("service=seance-75&therapist=paul&from=2026-12-02", 404, "therapist"),
        ("service=seance-75-flex&therapist=marc&from=2026-12-02", 400, "therapist"),
    ],
)
def test_the_api_names_the_bad_parameter(
    api: FlaskClient, query: str, status: int, parameter: str
) -> None:
    response = api.get(f"/api/v1/slots?{query}")
    assert response.status_code == status
    body = response.get_json()
    assert body["parameter"] == parameter
    assert body["error"] == ("not_found" if status == 404 else "invalid_parameter")
    assert body["message"]


def test_date_exceptions_close_days_and_change_hours(store: Store) -> None:
    # Demo: anne is away from 2026-12-24 to 2027-01-03; marc works 09:00-12:00 on 2026-12-31.
    assert starts(store, "seance-75", "anne", "2026-12-28", days=5) == []
    assert starts(store, "seance-75", "marc", "2026-12-31") == [
        "31 09:00 marc",
        "31 10:15 marc",
        "31 11:30 marc",
    ]
    assert starts(store, "seance-75", "anne", "2027-01-04")[:2] == [
        "04 08:00 anne",
        "04 09:15 anne",
    ]


def test_the_booking_recheck_accepts_only_an_offered_start(store: Store) -> None:
    config = load_config(DEMO)
    service = config.services["seance-75"]
    on_grid = datetime(2026, 12, 2, 15, 15, tzinfo=ZURICH)
    with store.read() as tx:
        slot = slot_at(tx, config, service, "anne", on_grid, NOW)
        off_grid = slot_at(tx, config, service, "anne", on_grid + timedelta(minutes=15), NOW)
        too_soon = slot_at(tx, config, service, "anne", on_grid, on_grid - timedelta(hours=1))
    assert slot is not None
    assert (slot.start, slot.end, slot.therapist) == (
        on_grid,
        on_grid + timedelta(minutes=75),
        "anne",
    )
    assert off_grid is None
    assert too_soon is None  # inside the two hours' minimum notice

    put_ics(store, "anne/private", event("dentist", "20261202T160000", "20261202T163000"))
    with store.read() as tx:
        assert slot_at(tx, config, service, "anne", on_grid, NOW) is None

"""Benchmark: slots for one therapist over 4 weeks, with 1,000 / 5,000 / 10,000 events.

What it measures (medians over repeated runs, in one process, same machine, same run):

- engine: `available_slots` alone, periods and busy time already computed (the pure core);
- request: a whole `GET /api/v1/slots` over HTTP on loopback (waitress, SQLite store,
  one indexed query, iCalendar expansion, engine, JSON);
- reference: the same slots computed the way a store without a time index must do it,
  parsing every event of the calendar (what stock Radicale's file storage implies).

Each calendar has 50 weekly recurring series; the other events are single appointments at a
constant density (25 a week) around the queried window, so every calendar has about the same
events inside the window and only its size changes: the request's cost should not grow with
it, the reference's should.

    .venv/bin/python bench/bench_slots.py [--runs 30] [--sizes 1000,5000,10000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
import waitress

from booking_web import create_app
from caldav_bridge.availability import booking_window, clear_caches, slot_query, slot_rule
from caldav_bridge.busy import busy_intervals, series_span
from caldav_bridge.config_loader import load_config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.ical import load_calendar
from caldav_bridge.opening_hours import open_periods
from caldav_bridge.runtime import Runtime
from caldav_bridge.slots import available_slots
from caldav_bridge.store import Span, Store
from caldav_bridge.store.migrate import upgrade

ZURICH = ZoneInfo("Europe/Zurich")
DEMO = Path(__file__).resolve().parents[1] / "config" / "practice.toml"
FIRST = date(2026, 12, 7)
DAYS = 28
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=ZURICH)
SERIES = 50
PER_WEEK = 25


def vevent(uid: str, start: datetime, minutes: int, rrule: str = "") -> str:
    fmt = "%Y%m%dT%H%M%S"
    end = start + timedelta(minutes=minutes)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//bench//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART;TZID=Europe/Zurich:{start:{fmt}}",
        f"DTEND;TZID=Europe/Zurich:{end:{fmt}}",
        "SUMMARY:Busy",
    ]
    if rrule:
        lines.append(rrule)
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


def calendar_texts(size: int) -> list[str]:
    """``size`` events: 50 weekly series, the rest single events 25 a week around the window."""
    texts = []
    for i in range(SERIES):
        start = datetime(2025, 1, 6 + i % 5, 7 + i % 11, 0, tzinfo=ZURICH)
        texts.append(
            vevent(
                f"series-{i}",
                start,
                30,
                "RRULE:FREQ=WEEKLY;COUNT=300" if i % 2 else "RRULE:FREQ=WEEKLY",
            )
        )
    singles = size - SERIES
    weeks = singles // PER_WEEK + 1
    first_monday = datetime.combine(FIRST, datetime.min.time(), ZURICH) - timedelta(
        weeks=weeks // 2
    )
    for n in range(singles):
        week, slot = divmod(n, PER_WEEK)
        day, hour = divmod(slot, 5)
        start = first_monday + timedelta(weeks=week, days=day, hours=8 + 2 * hour)
        texts.append(vevent(f"single-{n}", start, 45))
    return texts


def fill(store: Store, texts: list[str]) -> None:
    with store.write("anne") as tx:
        tx.create_collection("anne", "anne", "", {})
        tx.create_collection("anne/appointments", "anne", "VCALENDAR", {})
        for i, text in enumerate(texts):
            calendar = load_calendar(text)
            start, end = series_span(calendar, ZURICH)
            uid = str(calendar.walk("VEVENT")[0]["UID"])
            tx.put_item(
                "anne/appointments", f"{i}.ics", text, Span(uid, "VEVENT", start, end), "bench"
            )


def median_ms(run: Callable[[], object], runs: int) -> float:
    run()  # warm caches
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def measure(size: int, runs: int, folder: Path) -> dict[str, float]:
    url = f"sqlite:///{folder / f'bench-{size}.sqlite3'}"
    store = Store.connect(url, clock=lambda: NOW)
    upgrade(store.engine)
    texts = calendar_texts(size)
    fill(store, texts)
    config = load_config(DEMO)
    query = slot_query(config, "suivi-45", "anne", FIRST, DAYS)
    anne = config.therapists["anne"]
    periods = open_periods(
        anne.weekly_hours, anne.exceptions, ZURICH, FIRST, FIRST + timedelta(days=DAYS - 1)
    )
    window = (periods[0].start, periods[-1].end + timedelta(hours=1))
    with store.read() as tx:
        candidates = tx.items_between(["anne/appointments"], *window)
    busy = busy_intervals([load_calendar(i.text) for i in candidates], *window, ZURICH)
    rule, limits = slot_rule(query.service), booking_window(config.booking)

    def reference() -> object:
        every = [load_calendar(text) for text in texts]  # no index: every event is parsed
        return available_slots(periods, busy_intervals(every, *window, ZURICH), rule, limits, NOW)

    runtime = Runtime(ConfigSource(DEMO), store, "bench", lambda: NOW)
    server = waitress.create_server(create_app(runtime), host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    api = f"http://127.0.0.1:{server.effective_port}/api/v1/slots"
    params = {
        "service": "suivi-45",
        "therapist": "anne",
        "from": FIRST.isoformat(),
        "days": str(DAYS),
    }
    with requests.Session() as http:
        expected = available_slots(periods, busy, rule, limits, NOW)
        assert len(http.get(api, params=params, timeout=30).json()) == len(expected)
        result = {
            "in window": float(len(candidates)),
            "engine": median_ms(lambda: available_slots(periods, busy, rule, limits, NOW), runs),
            "request": median_ms(lambda: http.get(api, params=params, timeout=30), runs),
            "cold request": median_ms(
                lambda: (clear_caches(), http.get(api, params=params, timeout=30)),
                max(3, runs // 3),
            ),
            "reference": median_ms(reference, max(3, runs // 10)),
        }
    server.close()
    store.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--sizes", default="1000,5000,10000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="bench-slots-") as folder:
        results = {size: measure(size, args.runs, Path(folder)) for size in sizes}
    print(
        "| events | in window | engine (ms) | request (ms) | cold request (ms) "
        "| no-index reference (ms) | reference / request |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for size, r in results.items():
        ratio = r["reference"] / r["request"]
        print(
            f"| {size:,} | {r['in window']:.0f} | {r['engine']:.2f} | {r['request']:.1f} | "
            f"{r['cold request']:.0f} | {r['reference']:.0f} | {ratio:.0f}x |"
        )
    small, large = results[sizes[0]], results[sizes[-1]]
    growth = large["request"] / small["request"]
    print(
        f"\nrequest at {sizes[-1]:,} events / at {sizes[0]:,}: {growth:.2f}; "
        f"reference: {large['reference'] / small['reference']:.2f}"
    )


if __name__ == "__main__":
    main()

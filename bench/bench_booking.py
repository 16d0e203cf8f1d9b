"""Benchmark: the booking pages under 20 concurrent clients, against the real server.

`caldav-bridge init --demo` and `caldav-bridge serve` (a process on loopback, SQLite, the
default 8 request threads, the watcher thread on) over a copy of the demo configuration with
`[web] booking_rate_limit = "off"`. Then, for each kind of request, one client alone, and 20
client threads (each with its own `requests.Session`) started together:

- `GET /static/style.css`: the stack's floor (waitress, Flask, no database);
- `GET /healthz`: what a load balancer polls;
- reference: `GET /api/v1/slots` for one therapist's week, the query behind the week page;
- week page: `GET /book/seance-75/<therapist>/?day=D`, the week with one day's slot buttons,
  days and therapists spread over the horizon (before and again after the bookings);
- booking: `POST /api/v1/bookings`, each request on a distinct free slot of `seance-75` (both
  demo therapists, spread over the days of the horizon, one new patient per booking).

Prints a Markdown table: median latency alone; under 20 clients the median, 95th percentile,
throughput (for the POST: bookings per second) and the median over the reference's. Every
phase is bounded in requests and in time; only loopback is contacted. Exits non-zero if any
request failed (a booking not answered 201 counts as failed).

    .venv/bin/python bench/bench_booking.py [--clients 20] [--requests 25] [--bookings 400]
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "caldav-bridge")
DEMO = REPO / "config" / "practice.toml"
ZURICH = ZoneInfo("Europe/Zurich")
SERVING = re.compile(r"serving .* on (http://127\.0\.0\.1:\d+)/")
THERAPISTS = ("anne", "marc")
SERVICE = "seance-75"
PHASE_DEADLINE = 300.0  # seconds: a phase stops sending when it has run this long
MAX_QUERY_DAYS = 62  # the slots API's largest window
REFERENCE = "GET /api/v1/slots, one week (reference)"


@dataclass(frozen=True)
class Result:
    name: str
    latencies: list[float]  # seconds, successful requests only
    failures: int
    wall: float  # seconds from the start signal to the last answer

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies) * 1000 if self.latencies else float("nan")

    @property
    def p95_ms(self) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall


# A request: (session, index of the request) -> whether the answer is the expected one.
Call = Callable[[requests.Session, int], bool]


def run_phase(name: str, clients: int, jobs: list[list[int]], call: Call) -> Result:
    """``clients`` threads start together; thread i sends the requests numbered jobs[i]."""
    start = threading.Barrier(clients + 1)
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def client(numbers: list[int]) -> None:
        with requests.Session() as session:
            start.wait()
            deadline = time.monotonic() + PHASE_DEADLINE
            for number in numbers:
                if time.monotonic() > deadline:
                    break
                began = time.perf_counter()
                try:
                    ok = call(session, number)
                except requests.RequestException:
                    ok = False
                took = time.perf_counter() - began
                with lock:
                    if ok:
                        latencies.append(took)
                    else:
                        failures[0] += 1

    threads = [threading.Thread(target=client, args=(jobs[i],)) for i in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    return Result(name, latencies, failures[0], time.perf_counter() - began)


def spread(count: int, clients: int) -> list[list[int]]:
    """Request numbers 0..count-1 dealt round-robin to the clients."""
    return [list(range(i, count, clients)) for i in range(clients)]


# -- the server ------------------------------------------------------------------------------


def practice(folder: Path) -> Path:
    config = folder / "config"
    config.mkdir()
    text = DEMO.read_text(encoding="utf-8")
    text, count = re.subn(r"(?m)^booking_rate_limit = .*$", 'booking_rate_limit = "off"', text)
    assert count == 1
    path = config / "practice.toml"
    path.write_text(text, encoding="utf-8")
    return path


@contextmanager
def served(config: Path, threads: int) -> Iterator[str]:
    env = {**os.environ, "CALDAV_BRIDGE_DATABASE_URL": ""}
    init = subprocess.run(
        [CLI, "--config", str(config), "init", "--demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert init.returncode == 0, init.stderr
    process = subprocess.Popen(
        [CLI, "--config", str(config), "serve", "--port", "0", "--threads", str(threads)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    found: list[str] = []
    ready = threading.Event()

    def read() -> None:  # keeps draining the log so the server never blocks on it
        assert process.stderr is not None
        for line in process.stderr:
            match = SERVING.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ready.wait(60)
        assert found, "caldav-bridge serve did not start"
        yield found[0]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)


# -- what the clients ask ----------------------------------------------------------------------


def free_slots(base_url: str, first: date, days: int) -> list[dict[str, str]]:
    """Every free `seance-75` slot of both therapists from ``first`` for ``days`` days."""
    slots: list[dict[str, str]] = []
    with requests.Session() as http:
        for therapist in THERAPISTS:
            for offset in range(0, days, MAX_QUERY_DAYS):
                params = {
                    "service": SERVICE,
                    "therapist": therapist,
                    "from": (first + timedelta(days=offset)).isoformat(),
                    "days": str(min(MAX_QUERY_DAYS, days - offset)),
                }
                answer = http.get(f"{base_url}/api/v1/slots", params=params, timeout=60)
                answer.raise_for_status()
                slots.extend(answer.json())
    return slots


def interleaved(slots: list[dict[str, str]], count: int) -> list[dict[str, str]]:
    """``count`` slots taken evenly across the horizon and both therapists."""
    ordered = sorted(slots, key=lambda s: (s["start"], s["therapist"]))
    step = max(1, len(ordered) // count)
    return ordered[::step][:count]


def booking_body(slot: dict[str, str], number: int) -> dict[str, Any]:
    return {
        "service": SERVICE,
        "therapist": slot["therapist"],
        "start": slot["start"],
        "patient": {
            "first_name": "Bench",
            "last_name": f"Patient {number}",
            "email": f"bench-{number}@example.org",
            "phone": "079 123 45 67",
            "language": "fr",
        },
        "consent": True,
    }


def week_pages(slots: list[dict[str, str]]) -> list[str]:
    """The (therapist, day) week pages that have slots, spread over the horizon."""
    return sorted(
        {
            f"/book/{SERVICE}/{s['therapist']}/?day={datetime.fromisoformat(s['start']).date()}"
            for s in slots
        }
    )


@dataclass(frozen=True)
class Row:
    name: str
    serial: Result  # one client
    concurrent: Result  # ``clients`` clients


def measure(base_url: str, clients: int, per_client: int, bookings: int) -> list[Row]:
    today = datetime.now(ZURICH).date()
    slots = free_slots(base_url, today, 91)
    serial_count = 40
    serial_bookings = 20
    wanted = serial_bookings + bookings
    assert len(slots) >= wanted, f"only {len(slots)} free slots for {wanted} bookings"
    chosen = interleaved(slots, wanted)
    pages = week_pages(slots)
    week_query = {"service": SERVICE, "from": today.isoformat(), "days": "7"}

    def static(session: requests.Session, n: int) -> bool:
        return session.get(f"{base_url}/static/style.css", timeout=60).status_code == 200

    def healthz(session: requests.Session, n: int) -> bool:
        return session.get(f"{base_url}/healthz", timeout=60).status_code == 200

    def slots_api(session: requests.Session, n: int) -> bool:
        query = {**week_query, "therapist": THERAPISTS[n % 2]}
        return session.get(f"{base_url}/api/v1/slots", params=query, timeout=60).ok

    def week_page(session: requests.Session, n: int) -> bool:
        answer = session.get(base_url + pages[n % len(pages)], timeout=60)
        return answer.status_code == 200 and 'class="slot"' in answer.text

    def booker(first: int) -> Call:
        def book(session: requests.Session, n: int) -> bool:
            body = booking_body(chosen[first + n], first + n)
            answer = session.post(f"{base_url}/api/v1/bookings", json=body, timeout=60)
            return answer.status_code == 201

        return book

    def row(name: str, call: Call, serial: int = serial_count, concurrent: int = 0) -> Row:
        return Row(
            name,
            run_phase(name, 1, spread(serial, 1), call),
            run_phase(name, clients, spread(concurrent or clients * per_client, clients), call),
        )

    with requests.Session() as warm:  # caches, connections, each kind's first request
        for n in range(10):
            static(warm, n), healthz(warm, n), slots_api(warm, n), week_page(warm, n)

    rows = [
        row("GET /static/style.css (no database)", static),
        row("GET /healthz", healthz),
        row(REFERENCE, slots_api),
        row("GET week page with a day's slots", week_page),
    ]
    serial = run_phase("book", 1, spread(serial_bookings, 1), booker(0))
    concurrent = run_phase("book", clients, spread(bookings, clients), booker(serial_bookings))
    rows.append(Row("POST /api/v1/bookings (distinct slots)", serial, concurrent))
    pages[:] = week_pages(free_slots(base_url, today, 91))  # the days that still have slots
    rows.append(row(f"GET week page, after {wanted} bookings", week_page))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=25, help="GETs per client and phase")
    parser.add_argument("--bookings", type=int, default=400, help="concurrent bookings")
    parser.add_argument("--threads", type=int, default=8, help="server request threads")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-booking-") as folder:
        config = practice(Path(folder))
        with served(config, args.threads) as base_url:
            rows = measure(base_url, args.clients, args.requests, args.bookings)

    reference = next(r for r in rows if r.name == REFERENCE).concurrent.median_ms
    print(
        f"Run of {date.today().isoformat()}: {args.clients} clients, server with "
        f"{args.threads} threads, SQLite; 2 cores, shared, noisy"
    )
    n = args.clients
    print(
        f"\n| request | 1 client: median (ms) | {n} clients: requests | failed | median (ms) "
        "| p95 (ms) | per second | median / reference |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        c = r.concurrent
        print(
            f"| {r.name} | {r.serial.median_ms:.1f} | {len(c.latencies)} | "
            f"{c.failures + r.serial.failures} | {c.median_ms:.1f} | {c.p95_ms:.1f} | "
            f"{c.per_second:.1f} | {c.median_ms / reference:.2f} |"
        )
    if any(r.serial.failures or r.concurrent.failures for r in rows):
        raise SystemExit("some requests failed: see the table")


if __name__ == "__main__":
    main()

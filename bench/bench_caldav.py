"""Benchmark: our CalDAV server against stock Radicale 3.9 (multifilesystem), same run.

Both servers run as real processes on loopback and get the same calendar: 50 weekly
recurring series plus single events at 25 a week around the queried week, at 1,000 and
10,000 events. Stock Radicale gets its files written directly in its storage folder (its own
format); ours gets them through the store. Then, over HTTP, each operation is timed
(median of the runs; slow ones are given a time budget rather than a run count):

- REPORT calendar-query for one week; the same with <expand>;
- REPORT calendar-query for a week not asked before (each run another week: the events of
  that week are read for the first time since the server started; stock Radicale has no such
  first time, its warm-up read every event);
- REPORT sync-collection, incremental after one change;
- PROPFIND depth 1 on the calendar;
- PUT of a new event;
- REPORT calendar-multiget of 20 events.

Stock Radicale reads and caches every event on first access (minutes at 10,000 events): the
server is warmed up with a PROPFIND depth 1 and each operation once before it is timed. Both
servers must give the same answers (the same hrefs, the same number of VEVENTs): the run
fails if they do not, so a fast wrong answer cannot pass.

    .venv/bin/python bench/bench_caldav.py [--sizes 1000,10000] [--runs 15] [--budget 60]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests

from caldav_bridge.busy import series_span
from caldav_bridge.ical import load_calendar
from caldav_bridge.store import Span, Store
from caldav_bridge.store.database import SQLITE_FILE

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "caldav-bridge")
ZURICH = ZoneInfo("Europe/Zurich")
WEEK = datetime(2026, 12, 7, tzinfo=ZURICH)
SERIES = 50
PER_WEEK = 25
OPERATIONS = (
    "report week",
    "report week expand",
    "report new week",
    "sync incremental",
    "propfind depth 1",
    "put",
    "multiget 20",
)

REPORT_WEEK = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:prop><D:getetag/><C:calendar-data>{expand}</C:calendar-data></D:prop>
  <C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">
    <C:time-range start="{start}" end="{end}"/>
  </C:comp-filter></C:comp-filter></C:filter>
</C:calendar-query>"""
EXPAND = '<C:expand start="{start}" end="{end}"/>'
SYNC = """<?xml version="1.0" encoding="utf-8"?>
<D:sync-collection xmlns:D="DAV:"><D:sync-token>{token}</D:sync-token>
<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"""
PROPFIND = """<?xml version="1.0" encoding="utf-8"?>
<D:propfind xmlns:D="DAV:"><D:prop><D:getetag/><D:getcontenttype/></D:prop></D:propfind>"""
MULTIGET = """<?xml version="1.0" encoding="utf-8"?>
<C:calendar-multiget xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
<D:prop><D:getetag/><C:calendar-data/></D:prop>{hrefs}</C:calendar-multiget>"""


def vevent(uid: str, start: datetime, minutes: int, rrule: str = "") -> str:
    fmt = "%Y%m%dT%H%M%S"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//bench//EN",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20261101T000000Z",
        f"DTSTART;TZID=Europe/Zurich:{start:{fmt}}",
        f"DTEND;TZID=Europe/Zurich:{start + timedelta(minutes=minutes):{fmt}}",
        "SUMMARY:Busy",
        *([rrule] if rrule else []),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(lines) + "\r\n"


def calendar(size: int) -> dict[str, str]:
    """href -> text: 50 weekly series, the rest single events 25 a week around WEEK."""
    events = {}
    for i in range(SERIES):
        start = datetime(2025, 1, 6 + i % 5, 7 + i % 11, tzinfo=ZURICH)
        events[f"series-{i}.ics"] = vevent(f"series-{i}", start, 30, "RRULE:FREQ=WEEKLY")
    weeks = (size - SERIES) // PER_WEEK + 1
    first = WEEK - timedelta(weeks=weeks // 2)
    for n in range(size - SERIES):
        week, slot = divmod(n, PER_WEEK)
        day, hour = divmod(slot, 5)
        start = first + timedelta(weeks=week, days=day, hours=8 + 2 * hour)
        events[f"single-{n}.ics"] = vevent(f"single-{n}", start, 45)
    return events


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_up(url: str, auth: tuple[str, str]) -> None:
    """Wait until the server answers, then load the calendar once (stock Radicale parses every
    item on first access: minutes at 10,000 events; not part of any measurement)."""
    root = url.split("/anne/")[0] + "/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.request("PROPFIND", root, auth=auth, headers={"Depth": "0"}, timeout=5)
            requests.request("PROPFIND", url, auth=auth, headers={"Depth": "1"}, timeout=1800)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def process(args: list[str], env: dict[str, str] | None = None) -> Iterator[None]:
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def stock_radicale(folder: Path, events: dict[str, str]) -> Iterator[tuple[str, tuple[str, str]]]:
    """Stock Radicale 3.9 on its own files; the calendar written in its format."""
    collection = folder / "collections" / "collection-root" / "anne" / "bench"
    collection.mkdir(parents=True)
    (collection / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR"}))
    for href, text in events.items():
        (collection / href).write_text(text, encoding="utf-8")
    config = folder / "radicale.conf"
    config.write_text(
        "[auth]\ntype = none\n[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[logging]\nlevel = warning\n[web]\ntype = none\n"
    )
    port = free_port()
    args = [
        sys.executable,
        "-m",
        "radicale",
        "--config",
        str(config),
        "--server-hosts",
        f"127.0.0.1:{port}",
    ]
    auth = ("anne", "anything")
    with process(args):
        url = f"http://127.0.0.1:{port}/anne/bench/"
        wait_up(url, auth)
        yield url, auth


@contextmanager
def ours(folder: Path, events: dict[str, str]) -> Iterator[tuple[str, tuple[str, str]]]:
    config_dir = folder / "config"
    config_dir.mkdir()
    shutil.copy(REPO / "config" / "practice.toml", config_dir / "practice.toml")
    practice = config_dir / "practice.toml"
    env = {**os.environ, "CALDAV_BRIDGE_DATABASE_URL": ""}
    init = subprocess.run(
        [CLI, "--config", str(practice), "init", "--demo"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    password = re.search(r"Demo login: anne / (\S+)", init.stdout)
    assert password is not None
    store = Store.connect(f"sqlite:///{folder / 'var' / SQLITE_FILE}")
    with store.write("anne") as tx:
        if tx.collection("anne") is None:
            tx.create_collection("anne", "anne", "", {})
        tx.create_collection("anne/bench", "anne", "VCALENDAR", {"tag": "VCALENDAR"})
        for href, text in events.items():
            start, end = series_span(load_calendar(text), ZURICH)
            uid = href.removesuffix(".ics")
            tx.put_item("anne/bench", href, text, Span(uid, "VEVENT", start, end), "bench")
    store.close()
    port = free_port()
    args = [CLI, "--config", str(practice), "serve", "--port", str(port), "--no-watcher"]
    auth = ("anne", password.group(1))
    with process(args, env):
        url = f"http://127.0.0.1:{port}/dav/anne/bench/"
        wait_up(url, auth)
        yield url, auth


Answer = tuple[tuple[str, ...], int] | None
"""What a response answered: its hrefs (sorted) and how many VEVENTs it holds."""


def answer_of(response: requests.Response, url: str) -> Answer:
    """The answer, with hrefs relative to the calendar at ``url`` (the servers' prefixes
    differ: /anne/bench/ and /dav/anne/bench/)."""
    base = urlsplit(url).path
    hrefs = re.findall(r"<(?:\w+:)?href>([^<]+)</(?:\w+:)?href>", response.text)
    relative = (href.removeprefix(base) for href in hrefs)
    return tuple(sorted(relative)), response.text.count("BEGIN:VEVENT")


def timed(
    run: Callable[[], Answer], runs: int, budget: float, warm_up: bool = True
) -> tuple[float, list[Answer]]:
    """Median milliseconds of ``runs`` runs (fewer if they take more than ``budget`` seconds),
    and the answers, the warm-up's first (stock Radicale builds its item cache there)."""
    answers = [run()] if warm_up else []
    times: list[float] = []
    spent_since = time.monotonic()
    while len(times) < runs and (not times or time.monotonic() - spent_since < budget):
        began = time.perf_counter()
        answers.append(run())
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000, answers


def utc_text(moment: datetime) -> str:
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y%m%dT%H%M%SZ")


def new_weeks(count: int) -> Iterator[datetime]:
    """Weeks after and before WEEK, alternately, never WEEK or one of its neighbours."""
    for n in range(count):
        yield WEEK + timedelta(weeks=(2 + n // 2) * (1 if n % 2 == 0 else -1))


Results = dict[str, tuple[float, list[Answer]]]


def measure(url: str, auth: tuple[str, str], runs: int, budget: float) -> Results:
    http = requests.Session()
    http.auth = auth
    span = {"start": utc_text(WEEK), "end": utc_text(WEEK + timedelta(days=7))}
    xml = {"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}

    def request(method: str, body: str, expect: int = 207) -> requests.Response:
        response = http.request(method, url, data=body.encode(), headers=xml, timeout=600)
        assert response.status_code == expect, (method, response.status_code, response.text[:300])
        return response

    def sync_token() -> str:
        found = re.search(
            r"<(?:\w+:)?sync-token>([^<]+)<", request("REPORT", SYNC.format(token="")).text
        )
        assert found is not None
        return found.group(1)

    puts = itertools.count()

    def put() -> Answer:
        uid = f"put-{next(puts)}"  # the same on both servers: their listings can be compared
        response = http.put(
            f"{url}{uid}.ics",
            data=vevent(uid, WEEK + timedelta(hours=20), 30).encode(),
            headers={"Content-Type": "text/calendar"},
            timeout=60,
        )
        assert response.status_code == 201, response.status_code
        return None

    def incremental() -> float:
        """One change after a token, then the timed incremental sync (seconds)."""
        token = sync_token()
        put()
        began = time.perf_counter()
        request("REPORT", SYNC.format(token=token))
        return time.perf_counter() - began

    def sync_incremental() -> tuple[float, list[Answer]]:
        return statistics.median(incremental() for _ in range(runs)) * 1000, []

    weeks = new_weeks(runs)

    def report_new_week() -> Answer:
        week = next(weeks)
        window = {"start": utc_text(week), "end": utc_text(week + timedelta(days=7))}
        return answer_of(
            url=url, response=request("REPORT", REPORT_WEEK.format(expand="", **window))
        )

    def report(body: str) -> Callable[[], Answer]:
        return lambda: answer_of(url=url, response=request("REPORT", body))

    hrefs = "".join(
        f"<D:href>{urlsplit(url).path}single-{n}.ics</D:href>" for n in range(0, 400, 20)
    )
    expand = EXPAND.format(**span)
    results = {
        "report week": timed(report(REPORT_WEEK.format(expand="", **span)), runs, budget),
        "report week expand": timed(
            report(REPORT_WEEK.format(expand=expand, **span)), runs, budget
        ),
        "report new week": timed(report_new_week, runs, budget, warm_up=False),
        "sync incremental": sync_incremental(),
        "propfind depth 1": timed(
            lambda: answer_of(request("PROPFIND", PROPFIND), url), runs, budget
        ),
        "put": timed(put, runs, budget),
        "multiget 20": timed(report(MULTIGET.format(hrefs=hrefs)), runs, budget),
    }
    http.close()
    return results


def differences(stock: Results, ours: Results) -> list[str]:
    """Operations whose answers differ between the servers (runs both made)."""
    found = []
    for operation in OPERATIONS:
        pairs = zip(stock[operation][1], ours[operation][1], strict=False)
        if any(theirs != mine for theirs, mine in pairs):
            found.append(operation)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per slow operation")
    args = parser.parse_args()
    table: dict[int, dict[str, Results]] = {}
    for size in (int(s) for s in args.sizes.split(",")):
        events = calendar(size)
        table[size] = {}
        for name, server in (("stock", stock_radicale), ("ours", ours)):
            with (
                tempfile.TemporaryDirectory(prefix=f"bench-caldav-{name}-") as folder,
                server(Path(folder), events) as (url, auth),
            ):
                table[size][name] = measure(url, auth, args.runs, args.budget)
            print(f"measured {name} at {size:,} events", file=sys.stderr)
    print("| operation | events | stock Radicale (ms) | ours (ms) | stock / ours |")
    print("|---|---:|---:|---:|---:|")
    for operation in OPERATIONS:
        for size, results in table.items():
            stock, mine = results["stock"][operation][0], results["ours"][operation][0]
            print(f"| {operation} | {size:,} | {stock:.1f} | {mine:.1f} | {stock / mine:.1f}x |")
    sizes = sorted(table)
    if len(sizes) > 1:
        small, large = table[sizes[0]]["ours"], table[sizes[-1]]["ours"]
        print(
            f"\nours at {sizes[-1]:,} / ours at {sizes[0]:,}: "
            + ", ".join(f"{op} {large[op][0] / small[op][0]:.2f}" for op in OPERATIONS)
        )
    wrong = {size: differences(r["stock"], r["ours"]) for size, r in table.items()}
    if any(wrong.values()):
        sys.exit(f"the servers answered differently: {wrong}")
    print("\nanswers: identical (hrefs and VEVENT counts) for every REPORT at every size")


if __name__ == "__main__":
    main()

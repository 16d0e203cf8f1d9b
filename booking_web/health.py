"""GET /healthz: is this process able to serve (database reachable, schema current)?"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from booking_web.context import runtime
from caldav_bridge.errors import StoreError
from caldav_bridge.store.database import ping
from caldav_bridge.store.migrate import require_current
from caldav_bridge.watcher import Watcher

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    rt = runtime()
    body: dict[str, object] = {"status": "ok", "database": "ok", "config": "ok"}
    if rt.config_source.last_error is not None:
        body["config"] = f"not reloaded: {rt.config_source.last_error}"
    try:
        ping(rt.store.engine)
        require_current(rt.store.engine)
        heartbeat = Watcher(rt.store).last_heartbeat()
    except StoreError as exc:
        body.update(status="error", database=str(exc))
        return jsonify(body), 503
    body["watcher_last_pass"] = heartbeat.isoformat() if heartbeat else None
    return jsonify(body), 200

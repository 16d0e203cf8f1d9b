"""One WSGI application: Radicale under /dav/, well-known redirects, the Flask app elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.wrappers import Response

DAV_PREFIX = "/dav"
WELL_KNOWN = ("/.well-known/caldav", "/.well-known/carddav")
# WebDAV methods a calendar client sends to "/" when given only the server's address.
DAV_DISCOVERY_METHODS = ("PROPFIND", "REPORT")

WSGIApp = Any  # a WSGI callable (typing it fully adds nothing here)


class Dispatcher:
    def __init__(self, dav: WSGIApp, web: WSGIApp, max_request_bytes: int) -> None:
        self.dav = dav
        self.web = web
        self.max_request_bytes = max_request_bytes

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        script = environ.get("SCRIPT_NAME", "").rstrip("/")
        if path.rstrip("/") in WELL_KNOWN or (path == "/" and method in DAV_DISCOVERY_METHODS):
            response = Response(status=301, headers={"Location": f"{script}{DAV_PREFIX}/"})
            return response(environ, start_response)
        if path == DAV_PREFIX or path.startswith(DAV_PREFIX + "/"):
            if _declared_length(environ) > self.max_request_bytes:
                response = Response("Request body too large\n", status=413, mimetype="text/plain")
                return response(environ, start_response)
            environ["SCRIPT_NAME"] = script + DAV_PREFIX
            environ["PATH_INFO"] = path[len(DAV_PREFIX) :] or "/"
            return self.dav(environ, start_response)  # type: ignore[no-any-return]
        return self.web(environ, start_response)  # type: ignore[no-any-return]


def _declared_length(environ: dict[str, Any]) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0

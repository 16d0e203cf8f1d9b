"""One WSGI application: Radicale under /dav/, well-known redirects, the Flask app elsewhere.

Before each request, ``on_request`` runs with no transaction open: `wsgi_app` makes it
provision the therapists of a configuration that changed (a login and calendar for one added
by hand), cheap when nothing changed. Its failure is logged and the request goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.wrappers import Response

log = logging.getLogger(__name__)

DAV_PREFIX = "/dav"
WELL_KNOWN = ("/.well-known/caldav", "/.well-known/carddav")
# WebDAV methods a calendar client sends to "/" when given only the server's address.
DAV_DISCOVERY_METHODS = ("PROPFIND", "REPORT")

WSGIApp = Any  # a WSGI callable (typing it fully adds nothing here)


class Dispatcher:
    def __init__(
        self,
        dav: WSGIApp,
        web: WSGIApp,
        max_request_bytes: int,
        on_request: Callable[[], object] = lambda: None,
    ) -> None:
        self.dav = dav
        self.web = web
        self.max_request_bytes = max_request_bytes
        self.on_request = on_request

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        try:
            self.on_request()
        except Exception:  # e.g. the database briefly unreachable: tried again next request
            log.exception("before the request: provisioning the configured therapists failed")
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

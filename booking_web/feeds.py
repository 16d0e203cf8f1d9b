"""GET /feeds/<login>/<token>.ics: a therapist's read-only feed (`caldav_bridge.feed`).

A wrong login, token or revoked URL is a plain 404 (never a hint which part was wrong). The
answer carries an ETag and is revalidated on every fetch (``no-cache``); a current copy gets
304 without the feed being composed.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, request

from booking_web.context import runtime
from caldav_bridge.feed import read_feed

bp = Blueprint("feeds", __name__)


@bp.get("/feeds/<login>/<token>.ics")
def feed(login: str, token: str) -> Response:
    found = read_feed(runtime(), login, token, request.if_none_match.contains_weak)
    if found is None:
        abort(404)
    headers = {
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
        "Referrer-Policy": "no-referrer",
    }
    if found.body is None:
        response = Response(status=304, headers=headers)
    else:
        response = Response(found.body, mimetype="text/calendar", headers=headers)
    response.set_etag(found.etag)
    return response

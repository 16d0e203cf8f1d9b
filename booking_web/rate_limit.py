"""Booking attempts per client address (`[web] booking_rate_limit`, e.g. "10/minute" or "off").

Fixed windows counted in the database (`caldav_bridge.store.rate_limits`), so the limit holds
across every `serve` process sharing one PostgreSQL. Page POSTs (book, reschedule, cancel) and
API POSTs count together. A fixed window may let through up to twice the rate across a window
boundary; that is accepted for a limit against abuse, not a quota.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import render_template, request

from booking_web.i18n import _, ngettext
from caldav_bridge.client_address import client_key
from caldav_bridge.runtime import Runtime

PERIODS = {
    "second": timedelta(seconds=1),
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
SCOPE = "booking"


@dataclass(frozen=True)
class Rate:
    limit: int
    period: timedelta


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0  # whole seconds until the window ends (for Retry-After)


ALLOWED = Verdict(True)


def parse_rate(text: str) -> Rate | None:
    """ "10/minute" -> Rate(10, 1 minute); "off" -> None. The config loader validated it."""
    if text == "off":
        return None
    count, _, unit = text.partition("/")
    return Rate(int(count), PERIODS[unit])


def window_of(now: datetime, period: timedelta) -> tuple[datetime, datetime]:
    """The fixed window ``[start, end)`` of length ``period`` that contains ``now``."""
    start = _EPOCH + ((now.astimezone(UTC) - _EPOCH) // period) * period
    return start, start + period


def seconds_until(end: datetime, now: datetime) -> int:
    return max(1, math.ceil((end - now).total_seconds()))


def count_booking_attempt(rt: Runtime) -> Verdict:
    """Count this request as a booking attempt of its client; say whether it may go on."""
    rate = parse_rate(rt.config.web.booking_rate_limit)
    if rate is None:
        return ALLOWED
    now = rt.clock()
    start, end = window_of(now, rate.period)
    key = f"{SCOPE}:{client_key(request.remote_addr)}"
    with rt.store.write() as tx:
        hits = tx.count_hit(key, start, end)
    if hits <= rate.limit:
        return ALLOWED
    return Verdict(False, seconds_until(end, now))


def too_many_attempts(verdict: Verdict) -> tuple[str, int, dict[str, str]]:
    """The 429 page, in the visitor's language."""
    seconds = verdict.retry_after
    message = ngettext(
        "Please wait %(num)d second before trying again.",
        "Please wait %(num)d seconds before trying again.",
        seconds,
    ) % {"num": seconds}
    page = render_template(
        "errors/error.html", title=_("Too many attempts"), message=message, status=429
    )
    return page, 429, {"Retry-After": str(seconds)}

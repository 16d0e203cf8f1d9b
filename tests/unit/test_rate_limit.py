"""The rate limit's arithmetic: rates, fixed windows, Retry-After and who counts as one client.

Counting itself is in the database (tests/integration/test_booking_api.py and
test_booking_pages.py exercise it on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking_web.rate_limit import Rate, parse_rate, seconds_until, window_of
from caldav_bridge.client_address import client_key

ZURICH = ZoneInfo("Europe/Zurich")


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("10/minute", Rate(10, timedelta(minutes=1))),
        ("100/hour", Rate(100, timedelta(hours=1))),
        ("3/second", Rate(3, timedelta(seconds=1))),
        ("500/day", Rate(500, timedelta(days=1))),
        ("off", None),
    ],
)
def test_rates_as_the_configuration_writes_them(text: str, rate: Rate | None) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize(
    ("moment", "period", "start", "end"),
    [
        ("2026-12-02T14:00:30+01:00", "minute", "2026-12-02T13:00:00", "2026-12-02T13:01:00"),
        ("2026-12-02T14:00:00+01:00", "minute", "2026-12-02T13:00:00", "2026-12-02T13:01:00"),
        ("2026-12-02T14:59:59+01:00", "hour", "2026-12-02T13:00:00", "2026-12-02T14:00:00"),
        ("2026-12-02T00:30:00+01:00", "day", "2026-12-01T00:00:00", "2026-12-02T00:00:00"),
    ],
)
def test_windows_are_fixed_and_the_same_for_every_process(
    moment: str, period: str, start: str, end: str
) -> None:
    length = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
    found = window_of(datetime.fromisoformat(moment), length[period])
    assert found == (
        datetime.fromisoformat(start).replace(tzinfo=UTC),
        datetime.fromisoformat(end).replace(tzinfo=UTC),
    )


def test_retry_after_is_whole_seconds_until_the_window_ends() -> None:
    end = datetime(2026, 12, 2, 13, 1, tzinfo=UTC)
    assert seconds_until(end, end - timedelta(seconds=45)) == 45
    assert seconds_until(end, end - timedelta(seconds=44, milliseconds=500)) == 45
    assert seconds_until(end, end) == 1  # never "retry after 0"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("192.0.2.7", "192.0.2.7"),
        (" 192.0.2.7 ", "192.0.2.7"),
        ("2001:db8:1:2::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("not an address", "unknown"),
        (None, "unknown"),
    ],
)
def test_one_client_is_an_ipv4_address_or_an_ipv6_64(address: str | None, key: str) -> None:
    assert client_key(address) == key

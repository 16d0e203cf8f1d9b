"""Fixtures for the iCalendar tests: client-shaped objects from tests/data/calendars, by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import icalendar
import pytest

from caldav_bridge.ical import parse_calendar

CALENDARS = Path(__file__).resolve().parent.parent / "data" / "calendars"


def read_calendar_file(name: str) -> bytes:
    """The bytes of ``tests/data/calendars/<name>``, as a client would PUT them."""
    return (CALENDARS / name).read_bytes()


@pytest.fixture
def calendar_bytes() -> Callable[[str], bytes]:
    """``calendar_bytes("apple_weekly_supervision.ics")``: the raw text of a test calendar."""
    return read_calendar_file


@pytest.fixture
def calendar_file() -> Callable[[str], icalendar.Calendar]:
    """``calendar_file("apple_weekly_supervision.ics")``: that calendar, accepted and parsed."""

    def open_calendar(name: str) -> icalendar.Calendar:
        return parse_calendar(read_calendar_file(name))

    return open_calendar

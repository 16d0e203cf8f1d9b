"""Choosing a time for a new or moved appointment: a free time of the engine, or a date and a
time of the therapist's choosing, then confirming what is unusual about it.

The forms send either ``start`` (a free time: an instant with its offset) or ``date`` and
``time`` (local wall time in the practice's zone); confirmations come back as ``confirm``
values, the keys of `TimeCheck.warnings`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

from flask import render_template
from werkzeug.datastructures import MultiDict

from booking_web.therapist.messages import (
    CHOOSE_TIME,
    IN_THE_PAST,
    INVALID_DATE,
    INVALID_TIME,
    NO_SUCH_TIME,
)
from booking_web.week import parse_day, parse_instant
from caldav_bridge.intervals import as_utc
from caldav_bridge.manual_booking import TimeCheck
from caldav_bridge.opening_hours import local_instant
from caldav_bridge.store import Appointment

MAX_CONFIRMATIONS = 50
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class ChosenTime:
    start: datetime | None
    from_slot: bool  # a free time offered by the engine, as opposed to a typed date and time
    errors: Mapping[str, str] = field(default_factory=dict)  # field -> code


def chosen_time(form: Mapping[str, str], tz: tzinfo, now: datetime) -> ChosenTime:
    """The time a placing form asks for, or the codes of what is wrong with it."""
    slot = form.get("start", "")
    if slot:
        start = parse_instant(slot)
        if start is None:
            return ChosenTime(None, True, {"start": CHOOSE_TIME})
        return ChosenTime(start.astimezone(tz), True)
    day_text, time_text = form.get("date", "").strip(), form.get("time", "").strip()
    if not day_text and not time_text:
        return ChosenTime(None, False, {"time": CHOOSE_TIME})
    errors: dict[str, str] = {}
    day = parse_day(day_text)
    if day is None or day.year < 2000 or day.year > 2200:
        errors["date"] = INVALID_DATE
    wall = parse_wall(time_text)
    if wall is None:
        errors["time"] = INVALID_TIME
    if day is None or wall is None or errors:
        return ChosenTime(None, False, errors)
    start = local_instant(day, wall, tz)
    if start.astimezone(tz).time() != wall:
        return ChosenTime(None, False, {"time": NO_SUCH_TIME})
    if as_utc(start) < as_utc(now):
        return ChosenTime(None, False, {"time": IN_THE_PAST})
    return ChosenTime(start, False)


def parse_wall(text: str) -> time | None:
    """ "14:30" (or "9:05") as a wall-clock time."""
    match = _TIME.match(text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def confirmations(form: MultiDict[str, str]) -> frozenset[str]:
    return frozenset(form.getlist("confirm")[:MAX_CONFIRMATIONS])


def time_fields(start: datetime) -> list[tuple[str, str]]:
    """The hidden fields that carry a checked time through the confirmation."""
    return [("start", start.isoformat())]


def nearby_days(day: date) -> tuple[date, date]:
    return day - timedelta(days=1), day + timedelta(days=1)


def form_day(form: Mapping[str, str], tz: tzinfo) -> date | None:
    """The day a refused placing form was about: its free time's, or its typed date."""
    moment = parse_instant(form.get("start", ""))
    if moment is not None:
        return moment.astimezone(tz).date()
    return parse_day(form.get("date", ""))


def form_number(text: str | None) -> int | None:
    """A positive whole number from a form (an id, a version), else None."""
    if text is None or not text.isdigit() or len(text) > 18:
        return None
    return int(text)


def confirmation_page(
    check: TimeCheck,
    action: str,
    fields: list[tuple[str, str]],
    back: str,
    moving: Appointment | None = None,
) -> str:
    """What is unusual about the checked time, and the form that confirms it (the same
    fields, the time as ``start``, and every warning as ``confirm``)."""
    return render_template(
        "therapist/confirm_time.html",
        check=check,
        action=action,
        fields=[*fields, ("start", check.start.isoformat())],
        back=back,
        moving=moving,
    )

"""What a change to an appointment's event means for the patient: pure, no store, no clock.

A calendar app may rewrite an event for many reasons (a new DTSTAMP, an alarm, the therapist's
notes). Only the time (DTSTART, DTEND or DURATION), the place (LOCATION) and cancellation
(STATUS:CANCELLED, or the event deleted) matter to a patient; anything else is no change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, Literal

from icalendar.cal.component import Component

from caldav_bridge.errors import ICalendarError
from caldav_bridge.ical import aware_time, calendar_items, duration_of, load_calendar, time_of

Kind = Literal["booked", "changed", "cancelled"]


@dataclass(frozen=True)
class EventFacts:
    """What a patient knows of an appointment's event: its time, place and whether it holds."""

    start: datetime  # aware, UTC
    end: datetime  # aware, UTC
    location: str
    cancelled: bool


@dataclass(frozen=True)
class AppointmentChange:
    kind: Kind
    before: EventFacts | None  # None for a new event
    after: EventFacts | None  # None for a deleted event

    @property
    def moved(self) -> bool:
        return bool(
            self.before
            and self.after
            and (self.before.start, self.before.end) != (self.after.start, self.after.end)
        )

    @property
    def place_changed(self) -> bool:
        return bool(self.before and self.after and self.before.location != self.after.location)


def event_facts(text: str | None, default_tz: tzinfo) -> EventFacts | None:
    """The facts of the event in ``text`` (its main VEVENT); None without text or VEVENT.

    Floating and all-day times are read in ``default_tz`` (the practice's zone).
    """
    if text is None:
        return None
    try:
        events = [c for c in calendar_items(load_calendar(text)) if c.name == "VEVENT"]
    except (ValueError, ICalendarError):
        return None
    main = next((e for e in events if "RECURRENCE-ID" not in e), events[0] if events else None)
    if main is None:
        return None
    return _facts(main, default_tz)


def appointment_change(
    old_text: str | None, new_text: str | None, default_tz: tzinfo
) -> AppointmentChange | None:
    """What changed between two versions of an appointment's event (None: the event is
    deleted); None when nothing a patient would care about changed."""
    before = event_facts(old_text, default_tz)
    after = event_facts(new_text, default_tz)
    held_before = before is not None and not before.cancelled
    held_after = after is not None and not after.cancelled
    if held_before and not held_after:
        return AppointmentChange("cancelled", before, after)
    if held_after and not held_before:
        return AppointmentChange("booked", before, after)  # new, or restored
    if not (held_before and held_after):
        return None
    change = AppointmentChange("changed", before, after)
    return change if change.moved or change.place_changed else None


def _facts(event: Component, tz: tzinfo) -> EventFacts | None:
    try:
        start_value = time_of(event, "DTSTART")
        end_value = time_of(event, "DTEND")
        length = duration_of(event)
    except ICalendarError:
        return None
    if start_value is None:
        return None
    start = aware_time(start_value, tz).astimezone(UTC)
    if end_value is not None:
        end = aware_time(end_value, tz).astimezone(UTC)
    else:
        end = start + (length if length is not None else timedelta(0))
    status: Any = event.get("STATUS")
    location: Any = event.get("LOCATION")
    return EventFacts(
        start=start,
        end=end,
        location=str(location).strip() if location is not None else "",
        cancelled=str(status or "").upper() == "CANCELLED",
    )

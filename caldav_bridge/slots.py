"""The slot engine: the appointment starts a therapist can offer. Pure: no clock, no I/O.

Inputs are open periods and busy intervals (aware :class:`Interval`), a :class:`SlotRule` for
the service, a :class:`BookingWindow` for the practice and the current instant ``now``.

- Flexible: a start every ``step`` from each period's start, offered when the whole
  appointment fits inside the period (14:00-18:00, 75 min -> 14:00, 14:15, ..., 16:45).
- Fixed: the chain ``period.start + k * (duration + buffer)``. A chain point that starts
  before the period's end is a start (``"may_overrun"``, documented default: 14:00, 15:15,
  16:30, 17:45); with ``"must_fit"`` the slot must also end by the period's end. With
  ``fixed_anchor="after_busy"`` the chain starts again where each busy block (plus buffer)
  ends, and a chain stops where the next busy block begins.
- Buffer: time kept free after every appointment *and* after every busy block. A slot
  ``[s, e)`` is offered only if ``[s, e + buffer)`` overlaps no busy interval and ``s`` is
  not in ``[busy.end, busy.end + buffer)``. Both conditions together say: the footprint
  ``[s, e + buffer)`` overlaps no busy interval stretched to ``[busy.start, busy.end +
  buffer)``, which is how it is computed. The buffer belongs to no appointment, so it may run
  past the period's end (a slot may end exactly at closing time).
- Always: a slot overlaps no busy time (also its overrun part), starts no earlier than
  ``now + minimum_notice`` and no later than ``now + horizon``; the list is sorted and unique.

Time: steps, chains and the booking window are absolute durations computed in UTC, and each
slot is returned in its period's zone, so no nonexistent local time can appear. Python compares
datetimes of one zone by wall-clock reading, so on a fall-back night the list keeps *clock
order*: a start is dropped when its local wall time is not later than that of a start already
offered (the second 02:30 after the first, or after 02:45 of the first hour). Each wall time is
therefore offered at most once, the first occurrence kept, and the list reads in order.

Busy intervals may be unsorted, overlapping or outside the periods; they are merged once and
looked up by bisection: O((periods + busy + slots) log n). Empty busy intervals block nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, get_args

from caldav_bridge.intervals import Interval, as_utc

FixedLastSlot = Literal["may_overrun", "must_fit"]
FixedAnchor = Literal["period", "after_busy"]

_TICK = timedelta(microseconds=1)  # datetime's resolution: "before t" is "at or before t - tick"
_DAY = timedelta(days=1)


class Availability(StrEnum):
    """How a service's starts are laid out in an open period (a ``str``: "fixed", "flexible")."""

    FIXED = "fixed"
    FLEXIBLE = "flexible"


@dataclass(frozen=True, slots=True)
class SlotRule:
    """How one service is offered; ``availability`` may be given as its config string."""

    duration: timedelta
    availability: Availability
    step: timedelta = timedelta(minutes=15)
    fixed_last_slot: FixedLastSlot = "may_overrun"
    fixed_anchor: FixedAnchor = "period"
    buffer: timedelta = timedelta(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "availability", Availability(self.availability))
        if self.duration <= timedelta(0):
            raise ValueError(f"slot duration must be positive, got {self.duration}")
        if self.step <= timedelta(0):
            raise ValueError(f"slot step must be positive, got {self.step}")
        if self.buffer < timedelta(0):
            raise ValueError(f"slot buffer must not be negative, got {self.buffer}")
        if self.fixed_last_slot not in get_args(FixedLastSlot):
            raise ValueError(f"fixed_last_slot must be one of {get_args(FixedLastSlot)}")
        if self.fixed_anchor not in get_args(FixedAnchor):
            raise ValueError(f"fixed_anchor must be one of {get_args(FixedAnchor)}")


@dataclass(frozen=True, slots=True)
class BookingWindow:
    """How soon and how far ahead a patient may book."""

    minimum_notice: timedelta = timedelta(hours=2)
    horizon: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if self.minimum_notice < timedelta(0) or self.horizon < timedelta(0):
            raise ValueError("minimum notice and horizon must not be negative")


@dataclass(frozen=True, order=True, slots=True)
class Slot:
    """One bookable appointment ``[start, end)`` with ``therapist`` (local to the period)."""

    start: datetime
    end: datetime
    therapist: str


def available_slots(
    periods: Sequence[Interval],
    busy: Sequence[Interval],
    rule: SlotRule,
    window: BookingWindow,
    now: datetime,
    therapist: str = "",
) -> list[Slot]:
    """The slots of ``therapist`` in ``periods`` that ``busy`` leaves free, in clock order."""
    blocked = _BusyIndex.of(busy, rule.buffer)
    earliest = as_utc(now) + window.minimum_notice
    latest = as_utc(now) + window.horizon
    slots: list[Slot] = []
    for period in periods:
        zone = period.start.tzinfo
        span = (as_utc(period.start), as_utc(period.end))
        for start in _period_starts(span, blocked, rule, earliest, latest):
            end = start + rule.duration
            slots.append(Slot(start.astimezone(zone), end.astimezone(zone), therapist))
    return _in_clock_order(slots)


def slots_for_therapists(
    per_therapist: Mapping[str, tuple[Sequence[Interval], Sequence[Interval]]],
    rule: SlotRule,
    window: BookingWindow,
    now: datetime,
) -> list[Slot]:
    """Every therapist's slots ("any therapist"), by start then therapist, in clock order.

    ``per_therapist`` maps a therapist to their ``(periods, busy)``.
    """
    everyone = [
        slot
        for therapist, (periods, busy) in per_therapist.items()
        for slot in available_slots(periods, busy, rule, window, now, therapist)
    ]
    return _in_clock_order(everyone)


def offered_slot(
    start: datetime,
    periods: Sequence[Interval],
    busy: Sequence[Interval],
    rule: SlotRule,
    window: BookingWindow,
    now: datetime,
    therapist: str = "",
) -> Slot | None:
    """The slot starting at the instant ``start`` if the engine offers it now, else ``None``.

    For the booking transaction's re-check. Only periods that can hold a slot in the day up to
    ``start`` are computed, which is enough for the clock-order rule (DST moves clocks by
    less than a day).
    """
    moment = as_utc(start)
    nearby = [
        period
        for period in periods
        if as_utc(period.start) <= moment and as_utc(period.end) > moment - _DAY
    ]
    for slot in available_slots(nearby, busy, rule, window, now, therapist):
        if as_utc(slot.start) == moment:
            return slot
    return None


def is_offered(
    start: datetime,
    periods: Sequence[Interval],
    busy: Sequence[Interval],
    rule: SlotRule,
    window: BookingWindow,
    now: datetime,
) -> bool:
    """Whether a slot starting at the instant ``start`` is offered now."""
    return offered_slot(start, periods, busy, rule, window, now) is not None


@dataclass(frozen=True, slots=True)
class _BusyIndex:
    """Busy time stretched by the buffer, merged, sorted: disjoint UTC blocks."""

    starts: list[datetime]
    ends: list[datetime]

    @classmethod
    def of(cls, busy: Sequence[Interval], buffer: timedelta) -> _BusyIndex:
        spans = sorted((as_utc(b.start), as_utc(b.end)) for b in busy)
        starts: list[datetime] = []
        ends: list[datetime] = []
        for start, end in spans:
            if start == end:
                continue
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end + buffer)
            else:
                starts.append(start)
                ends.append(end + buffer)
        return cls(starts, ends)

    def next_block(self, moment: datetime) -> int:
        """The index of the first block that ends after ``moment`` (``len`` if none)."""
        return bisect_right(self.ends, moment)

    def is_free(self, start: datetime, end: datetime) -> bool:
        """Whether ``[start, end)`` overlaps no block."""
        index = self.next_block(start)
        return index == len(self.starts) or self.starts[index] >= end


def _period_starts(
    period: tuple[datetime, datetime],
    blocked: _BusyIndex,
    rule: SlotRule,
    earliest: datetime,
    latest: datetime,
) -> Iterator[datetime]:
    """The free starts (UTC) that ``rule`` lays out in one period, in order."""
    footprint = rule.duration + rule.buffer
    for anchor, last, step in _chains(period, blocked, rule):
        for start in _chain(anchor, step, earliest, min(last, latest)):
            if blocked.is_free(start, start + footprint):
                yield start


def _chains(
    period: tuple[datetime, datetime], blocked: _BusyIndex, rule: SlotRule
) -> list[tuple[datetime, datetime, timedelta]]:
    """``(anchor, last start, step)`` of each chain of starts that ``rule`` uses in a period."""
    begin, end = period
    if rule.availability is Availability.FLEXIBLE:
        return [(begin, end - rule.duration, rule.step)]
    step = rule.duration + rule.buffer
    last = end - rule.duration if rule.fixed_last_slot == "must_fit" else end - _TICK
    if rule.fixed_anchor == "period":
        return [(begin, last, step)]
    index = blocked.next_block(begin)
    anchors = [begin, *blocked.ends[index : bisect_right(blocked.ends, end - _TICK)]]
    chains: list[tuple[datetime, datetime, timedelta]] = []
    for anchor in anchors:
        following = blocked.next_block(anchor)
        if following == len(blocked.starts):
            chains.append((anchor, last, step))
        elif blocked.starts[following] > anchor:
            chains.append((anchor, min(last, blocked.starts[following] - _TICK), step))
    return chains


def _chain(
    anchor: datetime, step: timedelta, earliest: datetime, last: datetime
) -> Iterator[datetime]:
    """``anchor + k * step`` for k >= 0, from ``earliest`` to ``last`` inclusive."""
    k = max(0, -((anchor - earliest) // step))
    moment = anchor + k * step
    while moment <= last:
        yield moment
        moment += step


def _in_clock_order(slots: list[Slot]) -> list[Slot]:
    """``slots`` by start instant then therapist, without repeats or wall-clock regressions."""
    kept: list[Slot] = []
    for slot in sorted(slots, key=lambda slot: (as_utc(slot.start), slot.therapist)):
        if not kept or _follows(slot, kept[-1]):
            kept.append(slot)
    return kept


def _follows(slot: Slot, previous: Slot) -> bool:
    """Whether ``slot`` may be listed after ``previous`` (see "clock order" above)."""
    wall, previous_wall = slot.start.replace(tzinfo=None), previous.start.replace(tzinfo=None)
    if wall != previous_wall:
        return wall > previous_wall
    same_instant = as_utc(slot.start) == as_utc(previous.start)
    return same_instant and slot.therapist != previous.therapist

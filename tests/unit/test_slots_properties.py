"""Rules of the slot engine that hold for every input (hypothesis), DST days included.

All arithmetic here is in UTC: Python compares and subtracts two datetimes of one zone by their
wall-clock readings, which is wrong across a DST change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from caldav_bridge.intervals import Interval, as_utc
from caldav_bridge.opening_hours import TimeRange, open_periods
from caldav_bridge.slots import (
    Availability,
    BookingWindow,
    FixedAnchor,
    Slot,
    SlotRule,
    available_slots,
)

ZURICH = ZoneInfo("Europe/Zurich")
DST_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]
DAYS = [*DST_DAYS, date(2026, 3, 28), date(2026, 10, 24), date(2026, 12, 2)]
PROPERTY = settings(max_examples=300, deadline=None, database=None)


@dataclass(frozen=True)
class Case:
    periods: list[Interval]
    busy: list[Interval]
    rule: SlotRule
    window: BookingWindow
    now: datetime

    def slots(self) -> list[Slot]:
        return available_slots(self.periods, self.busy, self.rule, self.window, self.now)


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


@st.composite
def time_ranges(draw: st.DrawFn, night: bool = False) -> TimeRange:
    """A range of the day; at ``night``, one around the hours that DST skips or repeats."""
    start = draw(st.integers(0, 3 * 60 if night else 23 * 60 - 5))
    end = draw(st.integers(start + 5, 5 * 60 if night else 24 * 60 - 1))
    return TimeRange(time(start // 60, start % 60), time(end // 60, end % 60))


@st.composite
def busy_intervals(draw: st.DrawFn, origin: datetime) -> Interval:
    start = origin + minutes(draw(st.integers(-6 * 60, 3 * 24 * 60)))
    return Interval(start, start + minutes(draw(st.integers(0, 5 * 60))))


@st.composite
def rules(
    draw: st.DrawFn,
    availabilities: tuple[Availability, ...] = tuple(Availability),
    anchors: tuple[FixedAnchor, ...] = ("period", "after_busy"),
) -> SlotRule:
    return SlotRule(
        duration=minutes(draw(st.integers(5, 180))),
        availability=draw(st.sampled_from(availabilities)),
        step=minutes(draw(st.integers(5, 60))),
        fixed_last_slot=draw(st.sampled_from(["may_overrun", "must_fit"])),
        fixed_anchor=draw(st.sampled_from(anchors)),
        buffer=minutes(draw(st.sampled_from([0, 0, 5, 10, 15, 30]))),
    )


AFTER_BUSY = rules((Availability.FIXED,), ("after_busy",))
ANCHORED_AT_PERIODS = rules(anchors=("period",))


@st.composite
def cases(
    draw: st.DrawFn, rule: st.SearchStrategy[SlotRule] | None = None, night: bool = False
) -> Case:
    """Two days of periods (night: around a DST change), busy time in UTC, a rule, a window."""
    day = draw(st.sampled_from(DST_DAYS if night else DAYS))
    ranges = st.lists(time_ranges(night), min_size=1, max_size=3)
    daily = tuple(sorted(draw(ranges), key=str))
    periods = open_periods(dict.fromkeys(range(7), daily), [], ZURICH, day, day + timedelta(1))
    midnight = datetime.combine(day, time(0), tzinfo=ZURICH).astimezone(UTC)
    busy = draw(st.lists(busy_intervals(midnight), max_size=12))
    window = BookingWindow(minutes(draw(st.integers(0, 240))), minutes(draw(st.integers(0, 4000))))
    now = midnight + minutes(draw(st.integers(-24 * 60, 24 * 60)))
    rule = rules() if rule is None else rule
    return Case(periods, busy, draw(rule), window, now.astimezone(ZURICH))


def any_cases(rule: st.SearchStrategy[SlotRule] | None = None) -> st.SearchStrategy[Case]:
    return cases(rule) | cases(rule, night=True)


def spans(periods: list[Interval]) -> list[tuple[datetime, datetime]]:
    return [(as_utc(p.start), as_utc(p.end)) for p in periods]


def on_chain(start: datetime, anchor: datetime, step: timedelta) -> bool:
    return anchor <= start and (start - anchor) % step == timedelta(0)


@PROPERTY
@given(any_cases())
def test_slots_are_sorted_unique_and_read_in_clock_order(case: Case) -> None:
    slots = case.slots()
    instants = [as_utc(slot.start) for slot in slots]
    walls = [slot.start.replace(tzinfo=None) for slot in slots]
    assert instants == sorted(set(instants))
    assert walls == sorted(set(walls))  # an ambiguous wall time is offered at most once
    assert slots == sorted(slots)


@PROPERTY
@given(any_cases())
def test_no_slot_touches_busy_time_or_its_buffer(case: Case) -> None:
    buffer = case.rule.buffer
    for slot in case.slots():
        start, end = as_utc(slot.start), as_utc(slot.end)
        assert end - start == case.rule.duration
        for busy in case.busy:
            busy_start, busy_end = as_utc(busy.start), as_utc(busy.end)
            if busy_start == busy_end:
                continue
            assert not (start < busy_end and busy_start < end + buffer), (slot, busy)
            assert not (busy_end <= start < busy_end + buffer), (slot, busy)


@PROPERTY
@given(any_cases())
def test_every_slot_starts_inside_an_open_period_and_fits_its_rule(case: Case) -> None:
    rule = case.rule
    chain_step = rule.duration + rule.buffer
    for slot in case.slots():
        start, end = as_utc(slot.start), as_utc(slot.end)
        hosts = [(a, b) for a, b in spans(case.periods) if a <= start < b]
        assert hosts, slot
        if rule.availability is Availability.FLEXIBLE:
            assert any(end <= b and on_chain(start, a, rule.step) for a, b in hosts), slot
        elif rule.fixed_anchor == "period":
            assert any(on_chain(start, a, chain_step) for a, _ in hosts), slot
        if rule.availability is Availability.FIXED and rule.fixed_last_slot == "must_fit":
            assert any(end <= b for _, b in hosts), slot


@PROPERTY
@given(any_cases(AFTER_BUSY))
def test_after_busy_chains_restart_where_the_last_busy_time_ends(case: Case) -> None:
    """Each slot lies on the chain from its period's start or the last busy end before it."""
    rule = case.rule
    ends = [as_utc(b.end) + rule.buffer for b in case.busy if as_utc(b.start) < as_utc(b.end)]
    for slot in case.slots():
        start = as_utc(slot.start)
        last_end = max((end for end in ends if end <= start), default=None)
        anchors = [
            a if last_end is None else max(a, last_end)
            for a, b in spans(case.periods)
            if a <= start < b
        ]
        assert any(on_chain(start, anchor, rule.duration + rule.buffer) for anchor in anchors)


@PROPERTY
@given(any_cases())
def test_slots_respect_minimum_notice_and_horizon(case: Case) -> None:
    now = as_utc(case.now)
    for slot in case.slots():
        assert now + case.window.minimum_notice <= as_utc(slot.start) <= now + case.window.horizon


def candidates(case: Case) -> list[datetime]:
    """Every start the rule allows, by brute force over busy time (no after_busy)."""
    rule, found = case.rule, []
    now, step = as_utc(case.now), rule.step
    if rule.availability is Availability.FIXED:
        step = rule.duration + rule.buffer
    for begin, end in spans(case.periods):
        start = begin
        while start < end:
            fits = start + rule.duration <= end
            if rule.availability is Availability.FIXED and rule.fixed_last_slot == "may_overrun":
                fits = True
            in_window = now + case.window.minimum_notice <= start <= now + case.window.horizon
            if fits and in_window and all(_is_clear(start, case, busy) for busy in case.busy):
                found.append(start)
            start += step
    return found


def _is_clear(start: datetime, case: Case, busy: Interval) -> bool:
    end, buffer = start + case.rule.duration, case.rule.buffer
    busy_start, busy_end = as_utc(busy.start), as_utc(busy.end)
    if busy_start == busy_end:
        return True
    return not (start < busy_end and busy_start < end + buffer) and not (
        busy_end <= start < busy_end + buffer
    )


@PROPERTY
@given(any_cases(ANCHORED_AT_PERIODS))
def test_no_free_start_is_missing(case: Case) -> None:
    """A free start is left out only when an earlier slot already showed its wall time."""
    slots = case.slots()
    offered = {as_utc(slot.start) for slot in slots}
    for missing in sorted(set(candidates(case)) - offered):
        wall = missing.astimezone(ZURICH).replace(tzinfo=None)
        assert any(
            as_utc(slot.start) < missing and slot.start.replace(tzinfo=None) >= wall
            for slot in slots
        ), missing.astimezone(ZURICH)

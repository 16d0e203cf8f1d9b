"""The slot engine's rules (DESIGN.md section 6), as tables in Europe/Zurich local time."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from caldav_bridge.intervals import Interval
from caldav_bridge.opening_hours import TimeRange, open_periods
from caldav_bridge.slots import (
    Availability,
    BookingWindow,
    Slot,
    SlotRule,
    available_slots,
    is_offered,
    offered_slot,
    slots_for_therapists,
)

ZURICH = ZoneInfo("Europe/Zurich")
DAY = "2026-12-02"  # an ordinary Wednesday
NOW = "2026-12-01 08:00"


def at(local: str) -> datetime:
    """``"2026-12-02 14:00"`` in Zurich (first occurrence if the wall time is repeated)."""
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZURICH)


def span(start: str, end: str, day: str = DAY) -> Interval:
    return Interval(at(f"{day} {start}"), at(f"{day} {end}"))


def minutes(count: int) -> timedelta:
    return timedelta(minutes=count)


def fixed(duration: int = 75, **options: Any) -> SlotRule:
    return SlotRule(minutes(duration), Availability.FIXED, **options)


def flexible(duration: int = 75, **options: Any) -> SlotRule:
    return SlotRule(minutes(duration), Availability.FLEXIBLE, **options)


def starts(slots: list[Slot]) -> list[str]:
    return [f"{slot.start:%H:%M}" for slot in slots]


def slots_on_day(
    rule: SlotRule,
    busy: list[Interval] | None = None,
    periods: list[Interval] | None = None,
    now: str = NOW,
    window: BookingWindow | None = None,
) -> list[str]:
    return starts(
        available_slots(
            periods if periods is not None else [span("14:00", "18:00")],
            busy or [],
            rule,
            window or BookingWindow(),
            at(now),
        )
    )


def quarters(first: str, last: str) -> list[str]:
    """Local times every 15 minutes from ``first`` to ``last`` inclusive: ``"08:00"``, ..."""
    start, end = datetime.strptime(first, "%H:%M"), datetime.strptime(last, "%H:%M")
    return [
        (start + minutes(15 * k)).strftime("%H:%M") for k in range((end - start) // minutes(15) + 1)
    ]


AFTERNOON = quarters("14:00", "16:45")


@pytest.mark.parametrize(
    ("rule", "busy", "expected"),
    [
        pytest.param(flexible(), [], AFTERNOON, id="flexible documented example"),
        pytest.param(fixed(), [], ["14:00", "15:15", "16:30", "17:45"], id="fixed may_overrun"),
        pytest.param(
            fixed(fixed_last_slot="must_fit"), [], ["14:00", "15:15", "16:30"], id="fixed must_fit"
        ),
        pytest.param(
            fixed(),
            [span("14:00", "14:30")],
            ["15:15", "16:30", "17:45"],
            id="anchor period drops chain points on busy time",
        ),
        pytest.param(
            fixed(fixed_anchor="after_busy"),
            [span("14:00", "14:30")],
            ["14:30", "15:45", "17:00"],
            id="anchor after_busy restarts at the end of busy time",
        ),
        pytest.param(
            fixed(fixed_anchor="after_busy"),
            [span("15:15", "15:40")],
            ["14:00", "15:40", "16:55"],
            id="after_busy leaves no unusable gap after an odd-length event",
        ),
        pytest.param(
            fixed(), [span("15:15", "15:40")], ["14:00", "16:30", "17:45"], id="same with period"
        ),
        pytest.param(
            fixed(fixed_anchor="after_busy", fixed_last_slot="must_fit"),
            [span("15:15", "15:40")],
            ["14:00", "15:40"],
            id="after_busy with must_fit",
        ),
        pytest.param(
            fixed(), [span("18:30", "19:00")], ["14:00", "15:15", "16:30"], id="busy on the overrun"
        ),
        pytest.param(
            flexible(),
            [span("15:00", "15:30")],
            ["15:30", "15:45", "16:00", "16:15", "16:30", "16:45"],
            id="flexible around busy time",
        ),
        pytest.param(
            flexible(60),
            [span("16:40", "17:10"), span("14:00", "14:20"), span("14:10", "14:50")],
            ["15:00", "15:15", "15:30"],
            id="unsorted overlapping busy intervals",
        ),
        pytest.param(
            fixed(), [span("10:00", "14:30"), span("17:00", "23:00")], ["15:15"], id="busy outside"
        ),
        pytest.param(
            fixed(),
            [Interval(at("2026-12-01 09:00"), at("2026-12-03 09:00"))],
            [],
            id="multi-day busy time",
        ),
        pytest.param(
            fixed(), [span("14:30", "14:30")], ["14:00", "15:15", "16:30", "17:45"], id="empty busy"
        ),
    ],
)
def test_slots_of_an_afternoon(rule: SlotRule, busy: list[Interval], expected: list[str]) -> None:
    assert slots_on_day(rule, busy) == expected


def test_fixed_slot_may_run_past_the_period_end() -> None:
    last = available_slots([span("14:00", "18:00")], [], fixed(), BookingWindow(), at(NOW))[-1]
    assert (last.start, last.end) == (at(f"{DAY} 17:45"), at(f"{DAY} 19:00"))


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        pytest.param(
            fixed(),
            ["08:00", "09:15", "10:30", "11:45", "14:00", "15:15", "16:30", "17:45"],
            id="fixed chain restarts after the break",
        ),
        pytest.param(
            flexible(90),
            [*quarters("08:00", "10:30"), *quarters("14:00", "16:30")],
            id="flexible slot never spans the break",
        ),
    ],
)
def test_two_periods_with_a_break(rule: SlotRule, expected: list[str]) -> None:
    periods = [span("14:00", "18:00"), span("08:00", "12:00")]
    assert slots_on_day(rule, periods=periods) == expected


@pytest.mark.parametrize(
    ("rule", "busy", "expected"),
    [
        pytest.param(
            fixed(50, buffer=minutes(10)),
            [],
            ["14:00", "15:00", "16:00", "17:00"],
            id="fixed chain steps by duration plus buffer",
        ),
        pytest.param(
            flexible(60, buffer=minutes(15)),
            [span("15:00", "15:30")],
            ["15:45", "16:00", "16:15", "16:30", "16:45", "17:00"],
            id="no start within the buffer after busy time",
        ),
        pytest.param(
            flexible(60, buffer=minutes(15)),
            [span("16:00", "16:30")],
            ["14:00", "14:15", "14:30", "14:45", "16:45", "17:00"],
            id="buffer before busy time; last slot ends at closing",
        ),
        pytest.param(
            fixed(45, buffer=minutes(15), fixed_anchor="after_busy"),
            [span("14:00", "14:20")],
            ["14:35", "15:35", "16:35", "17:35"],
            id="after_busy chain starts after busy time plus buffer",
        ),
    ],
)
def test_buffer(rule: SlotRule, busy: list[Interval], expected: list[str]) -> None:
    assert slots_on_day(rule, busy) == expected


@pytest.mark.parametrize(
    ("now", "rule", "expected"),
    [
        pytest.param(
            f"{DAY} 12:00", fixed(), ["14:00", "15:15", "16:30", "17:45"], id="exactly 2h"
        ),
        pytest.param(f"{DAY} 12:10", fixed(), ["15:15", "16:30", "17:45"], id="fixed within 2h"),
        pytest.param(f"{DAY} 14:20", flexible(), ["16:30", "16:45"], id="flexible within 2h"),
        pytest.param(f"{DAY} 17:00", fixed(), [], id="too late today"),
    ],
)
def test_minimum_notice(now: str, rule: SlotRule, expected: list[str]) -> None:
    assert slots_on_day(rule, now=now) == expected


def test_notice_of_zero_still_offers_nothing_in_the_past() -> None:
    window = BookingWindow(minimum_notice=timedelta(0))
    assert slots_on_day(fixed(), now=f"{DAY} 15:15", window=window) == ["15:15", "16:30", "17:45"]


def test_horizon_is_the_last_possible_start() -> None:
    window = BookingWindow(horizon=timedelta(hours=7))
    assert slots_on_day(fixed(), now=f"{DAY} 08:00", window=window) == ["14:00"]
    assert slots_on_day(flexible(), now=f"{DAY} 08:00", window=window) == AFTERNOON[:5]


def test_default_horizon_is_ninety_days() -> None:
    periods = [span("14:00", "18:00", day="2027-03-02"), span("14:00", "18:00", day="2027-03-03")]
    slots = available_slots(periods, [], fixed(), BookingWindow(), at("2026-12-02 16:00"))
    assert [f"{slot.start:%m-%d %H:%M}" for slot in slots] == ["03-02 14:00", "03-02 15:15"]


DST_DAYS = [date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)]


def periods_on(day: date, *hours: tuple[time, time]) -> list[Interval]:
    weekly = {day.weekday(): tuple(TimeRange(start, end) for start, end in hours)}
    return open_periods(weekly, [], ZURICH, day, day)


def slots_on(day: date, rule: SlotRule, *hours: tuple[time, time]) -> list[str]:
    now = datetime.combine(day, time(0), tzinfo=ZURICH) - timedelta(days=1)
    slots = available_slots(periods_on(day, *hours), [], rule, BookingWindow(), now)
    return [f"{slot.start:%H:%M%z}" for slot in slots]


@pytest.mark.parametrize("day", DST_DAYS, ids=str)
def test_normal_hours_on_dst_days_give_the_usual_local_times(day: date) -> None:
    morning = (time(8), time(12))
    assert starts_only(slots_on(day, fixed(), morning)) == ["08:00", "09:15", "10:30", "11:45"]
    assert starts_only(slots_on(day, flexible(), morning)) == quarters("08:00", "10:45")


def starts_only(local: list[str]) -> list[str]:
    return [text[:5] for text in local]


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2027, 3, 28)], ids=str)
def test_spring_forward_night_offers_no_nonexistent_time(day: date) -> None:
    night = (time(1), time(4))
    assert slots_on(day, flexible(30), night) == [
        "01:00+0100", "01:15+0100", "01:30+0100", "01:45+0100",
        "03:00+0200", "03:15+0200", "03:30+0200",
    ]  # fmt: skip
    assert slots_on(day, fixed(), night) == ["01:00+0100", "03:15+0200"]


@pytest.mark.parametrize("day", [date(2026, 10, 25), date(2027, 10, 31)], ids=str)
def test_fall_back_night_offers_each_local_time_once(day: date) -> None:
    night = (time(1), time(4))
    assert slots_on(day, flexible(30), night) == [
        "01:00+0200", "01:15+0200", "01:30+0200", "01:45+0200",
        "02:00+0200", "02:15+0200", "02:30+0200", "02:45+0200",
        "03:00+0100", "03:15+0100", "03:30+0100",
    ]  # fmt: skip
    # The chain runs in absolute time: 75 minutes after 02:15 summer time is 02:30 winter time.
    assert slots_on(day, fixed(), night) == ["01:00+0200", "02:15+0200", "02:30+0100", "03:45+0100"]


def test_busy_time_across_the_repeated_hour_blocks_its_real_duration() -> None:
    day = date(2026, 10, 25)
    busy = Interval(at("2026-10-25 02:30"), at("2026-10-25 02:10").replace(fold=1))  # 40 minutes
    periods = periods_on(day, (time(1), time(4)))
    slots = available_slots(periods, [busy], flexible(15), BookingWindow(), at("2026-10-24 08:00"))
    local = [f"{slot.start:%H:%M%z}" for slot in slots]
    assert "02:15+0200" in local
    assert "02:30+0200" not in local
    assert "02:45+0200" not in local
    assert "03:00+0100" in local


def test_any_therapist_is_the_union_saying_whose_slot_it_is() -> None:
    afternoon = [span("14:00", "18:00")]
    per_therapist = {
        "marc": (afternoon, [span("15:15", "16:30")]),
        "anne": (afternoon, [span("14:00", "15:15")]),
    }
    slots = slots_for_therapists(per_therapist, fixed(), BookingWindow(), at(NOW))
    assert [(f"{slot.start:%H:%M}", slot.therapist) for slot in slots] == [
        ("14:00", "marc"),
        ("15:15", "anne"),
        ("16:30", "anne"),
        ("16:30", "marc"),
        ("17:45", "anne"),
        ("17:45", "marc"),
    ]


def test_booking_recheck_uses_the_same_engine() -> None:
    periods, busy = [span("14:00", "18:00")], [span("15:15", "15:40")]
    rule, window, now = fixed(), BookingWindow(), at(NOW)
    assert is_offered(at(f"{DAY} 16:30"), periods, busy, rule, window, now)
    assert not is_offered(at(f"{DAY} 15:15"), periods, busy, rule, window, now)  # busy
    assert not is_offered(at(f"{DAY} 15:00"), periods, busy, rule, window, now)  # off the chain
    assert not is_offered(at(f"{DAY} 16:30"), periods, busy, rule, window, at(f"{DAY} 15:00"))
    assert offered_slot(at(f"{DAY} 17:45"), periods, busy, rule, window, now, "anne") == Slot(
        at(f"{DAY} 17:45"), at(f"{DAY} 19:00"), "anne"
    )


def test_booking_recheck_tells_the_two_repeated_hours_apart() -> None:
    periods = periods_on(date(2026, 10, 25), (time(1), time(4)))
    rule, window, now = flexible(30), BookingWindow(), at("2026-10-24 08:00")
    first, second = at("2026-10-25 02:15"), at("2026-10-25 02:15").replace(fold=1)
    assert is_offered(first, periods, [], rule, window, now)
    assert not is_offered(second, periods, [], rule, window, now)


@pytest.mark.parametrize(
    "options",
    [
        {"fixed_last_slot": "must-fit"},
        {"fixed_anchor": "busy"},
        {"step": timedelta(0)},
        {"buffer": minutes(-5)},
    ],
    ids=str,
)
def test_rule_rejects_invalid_settings(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        fixed(**options)


def test_rule_accepts_availability_as_written_in_the_config() -> None:
    rule = SlotRule(minutes(45), "flexible")  # type: ignore[arg-type]
    assert rule.availability is Availability.FLEXIBLE
    with pytest.raises(ValueError, match="'fix'"):
        SlotRule(minutes(45), "fix")  # type: ignore[arg-type]

"""The agenda's layout of days (pure): which entries a local day shows, at which local times,
the length of DST days, entries over midnight, all-day entries, the day and week views."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from caldav_bridge.agenda import (
    DAY_VIEW,
    EVENT,
    WEEK_VIEW,
    AgendaDay,
    Entry,
    agenda_days,
    day_bounds,
    monday_of,
    view_days,
)
from caldav_bridge.intervals import Interval

ZURICH = ZoneInfo("Europe/Zurich")
TODAY = date(2026, 11, 30)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=ZURICH)


def entry(title: str, start: datetime, end: datetime, *, all_day: bool = False) -> Entry:
    return Entry(
        uid=title,
        start=start,
        end=end,
        all_day=all_day,
        title=title,
        kind=EVENT,
        blocks_time=True,
        cancelled=False,
        calendar="appointments",
    )


def shown(day: AgendaDay) -> list[str]:
    """ "title start-end" of each timed entry, with ... where it continues from or to
    another day."""
    return [
        f"{p.entry.title} "
        f"{'...' if p.continued else p.start.strftime('%H:%M')}-"
        f"{'...' if p.continues else p.end.strftime('%H:%M')}"
        for p in day.timed
    ]


def one_day(entries: list[Entry], day: str) -> AgendaDay:
    [found] = agenda_days(entries, date.fromisoformat(day), 1, ZURICH, TODAY)
    return found


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2026-11-30", 24), ("2027-03-28", 23), ("2026-10-25", 25), ("2027-10-31", 25)],
)
def test_a_day_lasts_from_midnight_to_midnight_local_time(day: str, hours: int) -> None:
    start, end = day_bounds(date.fromisoformat(day), ZURICH)
    assert (start.hour, start.minute, end.hour, end.minute) == (0, 0, 0, 0)
    assert end - start == timedelta(hours=24)  # wall clock; the real length differs on DST days
    assert one_day([], day).hours == hours


def test_entries_are_sorted_by_their_real_start() -> None:
    entries = [
        entry("late", at("2026-12-02 16:00"), at("2026-12-02 17:00")),
        entry("early", at("2026-12-02 08:00"), at("2026-12-02 09:00")),
        entry("other day", at("2026-12-03 08:00"), at("2026-12-03 09:00")),
    ]
    assert shown(one_day(entries, "2026-12-02")) == ["early 08:00-09:00", "late 16:00-17:00"]


def test_on_the_spring_dst_day_times_are_the_real_local_times() -> None:
    # 01:30 CET to 03:30 CEST: one real hour across the skipped hour.
    night = entry("night", at("2027-03-28 01:30"), at("2027-03-28 03:30"))
    morning = entry("morning", at("2027-03-28 09:00"), at("2027-03-28 10:00"))
    assert shown(one_day([night, morning], "2027-03-28")) == [
        "night 01:30-03:30",
        "morning 09:00-10:00",
    ]


def test_in_the_autumn_fold_both_half_past_twos_are_shown_in_order() -> None:
    first = entry("first", at("2026-10-25 02:30"), at("2026-10-25 02:45"))
    second_start = at("2026-10-25 02:30").replace(fold=1)
    second = entry("second", second_start, second_start + timedelta(minutes=15))
    assert shown(one_day([second, first], "2026-10-25")) == [
        "first 02:30-02:45",
        "second 02:30-02:45",
    ]


def test_an_entry_over_midnight_is_on_both_days() -> None:
    late = entry("night shift", at("2026-12-03 22:00"), at("2026-12-04 02:00"))
    first, second = agenda_days([late], date(2026, 12, 3), 2, ZURICH, TODAY)
    assert shown(first) == ["night shift 22:00-..."]
    assert shown(second) == ["night shift ...-02:00"]
    assert second.timed[0].start == at("2026-12-04 00:00")


def test_an_entry_ending_at_midnight_is_not_on_the_next_day() -> None:
    evening = entry("evening", at("2026-12-03 22:00"), at("2026-12-04 00:00"))
    first, second = agenda_days([evening], date(2026, 12, 3), 2, ZURICH, TODAY)
    assert shown(first) == ["evening 22:00-00:00"]
    assert shown(second) == []


def test_a_zero_length_entry_is_on_the_day_it_happens() -> None:
    mark = entry("mark", at("2026-12-04 00:00"), at("2026-12-04 00:00"))
    first, second = agenda_days([mark], date(2026, 12, 3), 2, ZURICH, TODAY)
    assert shown(first) == []
    assert shown(second) == ["mark 00:00-00:00"]


def test_all_day_entries_cover_their_dates_and_are_listed_apart() -> None:
    congress = entry("congress", at("2026-12-03 00:00"), at("2026-12-05 00:00"), all_day=True)
    days = agenda_days([congress], date(2026, 12, 2), 4, ZURICH, TODAY)
    assert [[e.title for e in d.all_day] for d in days] == [[], ["congress"], ["congress"], []]
    assert all(d.timed == () for d in days)


def test_an_all_day_entry_on_a_dst_day_covers_that_day_only() -> None:
    sunday = entry("sunday", at("2027-03-28 00:00"), at("2027-03-29 00:00"), all_day=True)
    days = agenda_days([sunday], date(2027, 3, 27), 3, ZURICH, TODAY)
    assert [bool(d.all_day) for d in days] == [False, True, False]


def test_today_and_the_open_periods_of_each_day() -> None:
    periods = [
        Interval(at("2026-11-30 08:00"), at("2026-11-30 12:00")),
        Interval(at("2026-11-30 14:00"), at("2026-11-30 18:00")),
        Interval(at("2026-12-02 14:00"), at("2026-12-02 18:00")),
    ]
    days = agenda_days([], date(2026, 11, 30), 3, ZURICH, TODAY, periods)
    assert [d.is_today for d in days] == [True, False, False]
    assert [len(d.open_periods) for d in days] == [2, 0, 1]
    assert all(d.empty for d in days)


@pytest.mark.parametrize(
    ("view", "day", "first", "count"),
    [
        (DAY_VIEW, "2026-12-02", "2026-12-02", 1),
        (WEEK_VIEW, "2026-12-02", "2026-11-30", 7),
        (WEEK_VIEW, "2026-11-30", "2026-11-30", 7),
        (WEEK_VIEW, "2026-12-06", "2026-11-30", 7),
        (WEEK_VIEW, "2027-01-01", "2026-12-28", 7),
    ],
)
def test_the_days_of_a_view(view: str, day: str, first: str, count: int) -> None:
    assert view_days(view, date.fromisoformat(day)) == (date.fromisoformat(first), count)


def test_a_week_starts_on_monday() -> None:
    assert monday_of(date(2026, 12, 6)) == date(2026, 11, 30)
    assert monday_of(date(2026, 11, 30)) == date(2026, 11, 30)


def test_an_occurrence_has_a_key_of_its_own() -> None:
    weekly = [entry("w", at(f"2026-12-0{d} 09:00"), at(f"2026-12-0{d} 10:00")) for d in (1, 8)]
    assert weekly[0].key == "w@2026-12-01T08:00:00+00:00"
    assert weekly[0].key != weekly[1].key

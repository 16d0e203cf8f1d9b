"""Dates, times and durations as a reader of each language expects them (Babel, CLDR).

Every time is shown in the practice's zone: a patient in Geneva and a therapist whose laptop
is set to another zone read the same wall-clock time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from babel.dates import format_date, format_time

# Swiss variants: "mercredi, 2 décembre 2026", "Mittwoch, 2. Dezember 2026", 24-hour times.
LOCALES = {"fr": "fr_CH", "de": "de_CH", "it": "it_CH", "en": "en_CH"}
MINUTES = {"de": "{} Min."}
DEFAULT_MINUTES = "{} min"


@dataclass(frozen=True)
class When:
    """An appointment's time, formatted for one language."""

    date: str  # "mercredi, 2 décembre 2026"
    time: str  # "15:15"
    end_time: str  # "16:30"
    duration: str  # "75 min"


def locale_of(language: str) -> str:
    return LOCALES.get(language, LOCALES["fr"])


def when(start: datetime, end: datetime, language: str, tz: tzinfo) -> When:
    locale = locale_of(language)
    local_start, local_end = start.astimezone(tz), end.astimezone(tz)
    return When(
        date=format_date(local_start, "full", locale=locale),
        time=format_time(local_start, "short", locale=locale),
        end_time=format_time(local_end, "short", locale=locale),
        duration=minutes(end - start, language),
    )


@dataclass(frozen=True)
class Moment:
    """A single instant (e.g. the cut-off), formatted for one language."""

    date: str
    time: str


def moment(instant: datetime, language: str, tz: tzinfo) -> Moment:
    local = instant.astimezone(tz)
    locale = locale_of(language)
    return Moment(
        format_date(local, "full", locale=locale), format_time(local, "short", locale=locale)
    )


def short_date(instant: datetime, language: str, tz: tzinfo) -> str:
    """A compact date for SMS: "mer. 2 déc."."""
    return format_date(instant.astimezone(tz), "EEE d MMM", locale=locale_of(language))


def minutes(length: timedelta, language: str) -> str:
    return MINUTES.get(language, DEFAULT_MINUTES).format(int(length.total_seconds() // 60))

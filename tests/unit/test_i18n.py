"""Which language a page speaks, and dates and times as each language writes them, in the
practice's time zone (Babel)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from flask import Flask, session

from booking_web import create_app
from booking_web.i18n import (
    _,
    current_language,
    day_text,
    duration_text,
    ngettext,
    prefer_language,
    short_day_text,
    time_text,
    when_text,
)
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Store
from caldav_bridge.store.database import create_engine

DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
WINTER = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 14:00 in Lausanne (CET)
SUMMER = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)  # 14:30 in Lausanne (CEST)


@pytest.fixture
def app() -> Iterator[Flask]:
    store = Store(create_engine("sqlite://"))  # never queried by these tests
    runtime = Runtime(ConfigSource(DEMO), store, "key", lambda: WINTER)
    yield create_app(runtime)
    store.close()


@pytest.mark.parametrize(
    ("language", "when", "short_day"),
    [
        ("fr", "mercredi 2 décembre 2026, 14:00", "mer. 2 déc."),
        ("de", "Mittwoch, 2. Dezember 2026, 14:00", "Mi., 2. Dez."),
        ("it", "mercoledì 2 dicembre 2026, 14:00", "mer 2 dic"),
        ("en", "Wednesday, 2 December 2026, 14:00", "Wed, 2 Dec"),
    ],
)
def test_dates_are_written_as_each_language_writes_them(
    app: Flask, language: str, when: str, short_day: str
) -> None:
    with app.test_request_context(headers={"Accept-Language": language}):
        assert current_language() == language
        assert when_text(WINTER) == when
        assert short_day_text(date(2026, 12, 2)) == short_day


def test_times_are_local_to_the_practice_in_winter_and_summer(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert time_text(WINTER) == "14:00"
        assert time_text(SUMMER) == "14:30"
        assert day_text(datetime(2026, 12, 2, 23, 30, tzinfo=UTC)) == "jeudi 3 décembre 2026"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("de-CH,de;q=0.9,en;q=0.8", "de"),
        ("en-GB,en;q=0.9", "en"),
        ("es-ES,es;q=0.9", "fr"),  # not offered: the practice's first language
        ("", "fr"),
        ("it;q=0.5,de;q=0.8", "de"),
    ],
)
def test_the_browser_language_is_used_when_offered(app: Flask, header: str, language: str) -> None:
    with app.test_request_context(headers={"Accept-Language": header}):
        assert current_language() == language


def test_a_chosen_language_beats_the_browser_and_the_pages_hint(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "de"}):
        session["lang"] = "it"
        prefer_language("en")
        assert current_language() == "it"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        prefer_language("en")  # e.g. the patient's language on a manage page
        assert current_language() == "en"
    with app.test_request_context(headers={"Accept-Language": "de"}):
        session["lang"] = "xx"  # no longer offered: ignored
        assert current_language() == "de"


def test_texts_come_from_the_catalogues(app: Flask) -> None:
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert _("Book an appointment") == "Termin buchen"
        assert ngettext("%(num)d free time", "%(num)d free times", 3) % {"num": 3} == (
            "3 freie Termine"
        )
        assert duration_text(timedelta(minutes=75)) == "75 Min."
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert ngettext("%(num)d free time", "%(num)d free times", 1) % {"num": 1} == (
            "1 créneau libre"
        )
        assert ngettext("%(num)d free time", "%(num)d free times", 12) % {"num": 12} == (
            "12 créneaux libres"
        )

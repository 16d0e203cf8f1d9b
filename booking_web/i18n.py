"""Languages of the pages: choice, message catalogues (Babel) and dates in the practice's zone.

The language of a request is, in order: the one chosen with the page's switch (kept in the
session), a hint from the page (the patient's language on a manage page), the browser's
``Accept-Language``, the practice's first language. Texts are looked up in the compiled Babel
catalogues of ``booking_web/translations``; the messages in the code are English.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date, format_skeleton, format_time, get_datetime_format
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request, session

from booking_web.context import runtime

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
SESSION_KEY = "lang"
# Babel locales for dates: Swiss conventions (24-hour clock, day before month).
LOCALES: Mapping[str, str] = {"fr": "fr", "de": "de_CH", "it": "it", "en": "en_CH"}
# Each language's name in itself, for the switch.
NAMES: Mapping[str, str] = {"fr": "Français", "de": "Deutsch", "it": "Italiano", "en": "English"}


def N_(message: str) -> str:
    """Marks ``message`` for the catalogues without translating it (translate it later)."""
    return message


@lru_cache(maxsize=16)
def catalogue(language: str) -> NullTranslations:
    """The compiled catalogue of ``language`` (English falls back to the messages)."""
    return Translations.load(str(TRANSLATIONS), [language], domain="messages")


def offered_languages() -> tuple[str, ...]:
    return runtime().config.practice.languages


def chosen_language() -> str | None:
    """The language picked with the switch, if any and still offered."""
    chosen = session.get(SESSION_KEY)
    return chosen if isinstance(chosen, str) and chosen in offered_languages() else None


def browser_language() -> str:
    languages = offered_languages()
    return request.accept_languages.best_match(languages) or languages[0]


def current_language() -> str:
    if not has_request_context():
        return "en"
    found = g.get("language")
    if found is None:
        found = chosen_language() or browser_language()
        g.language = found
    return str(found)


def prefer_language(language: str) -> None:
    """Use ``language`` for this request unless the visitor picked one with the switch."""
    if chosen_language() is None and language in offered_languages():
        g.language = language


def gettext(message: str) -> str:
    return catalogue(current_language()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return catalogue(current_language()).ngettext(singular, plural, count)


_ = gettext


def _locale() -> str:
    return LOCALES.get(current_language(), current_language())


def _local(moment: datetime) -> datetime:
    return moment.astimezone(runtime().config.practice.tz)


def day_text(day: date | datetime) -> str:
    """ "mercredi 2 décembre 2026" """
    if isinstance(day, datetime):
        day = _local(day).date()
    return format_date(day, "full", locale=_locale())


def short_day_text(day: date) -> str:
    """ "mer. 2 déc." """
    return format_skeleton("MMMEd", day, locale=_locale())


def time_text(moment: datetime) -> str:
    """ "14:00" in the practice's zone."""
    return format_time(_local(moment).time(), "short", locale=_locale())


def when_text(moment: datetime) -> str:
    """ "mercredi 2 décembre 2026, 14:00" in the practice's zone."""
    glue = str(get_datetime_format("medium", locale=_locale()))
    return glue.replace("{1}", day_text(moment)).replace("{0}", time_text(moment))


def duration_text(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    return _("%(minutes)d min") % {"minutes": minutes}


def init_app(app: Flask) -> None:
    """Install the catalogues and the date filters in the app's templates."""
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext, ngettext, newstyle=True
    )
    app.jinja_env.filters.update(
        day=day_text,
        short_day=short_day_text,
        time=time_text,
        when=when_text,
        duration=duration_text,
    )

    @app.context_processor
    def language_context() -> dict[str, object]:
        return {
            "language": current_language(),
            "languages": [(code, NAMES.get(code, code)) for code in offered_languages()],
        }

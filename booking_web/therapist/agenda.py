"""The agenda: a day or a week of the therapist's calendars, in the practice's time zone.

``/therapist/agenda?view=day|week&date=YYYY-MM-DD``; without a date, today; without a view,
the week. Dates too far from today (a mistyped year) fall back to today.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import render_template, request, url_for

from booking_web.context import runtime
from booking_web.i18n import current_language
from booking_web.therapist.auth import current_login
from booking_web.therapist.blueprint import bp
from booking_web.week import parse_day
from caldav_bridge.agenda import DAY_VIEW, WEEK_VIEW, AgendaDay, view_days
from caldav_bridge.calendar_entries import therapist_agenda

FARTHEST = timedelta(days=366 * 20)


def agenda_url(view: str, day: date) -> str:
    return url_for("therapist.agenda", view=view, date=day.isoformat())


def chosen_day(text: str | None, today: date) -> date:
    day = parse_day(text)
    if day is None or abs(day - today) > FARTHEST:
        return today
    return day


@bp.get("/agenda")
def agenda() -> str:
    rt = runtime()
    config = rt.config
    now = rt.clock()
    today = now.astimezone(config.practice.tz).date()
    view = DAY_VIEW if request.args.get("view") == DAY_VIEW else WEEK_VIEW
    day = chosen_day(request.args.get("date"), today)
    first, count = view_days(view, day)
    days = therapist_agenda(
        rt.store, config, current_login(), first, count, now, current_language()
    )
    step = timedelta(days=count)
    return render_template(
        "therapist/agenda.html",
        view=view,
        day=day,
        days=days,
        today=today,
        previous_url=agenda_url(view, first - step),
        next_url=agenda_url(view, first + step),
        today_url=agenda_url(view, today),
        other_view_url=agenda_url(WEEK_VIEW if view == DAY_VIEW else DAY_VIEW, day),
        day_url=lambda d: agenda_url(DAY_VIEW, d),
        several_calendars=len(calendar_names(days)) > 1,
    )


def calendar_names(days: list[AgendaDay]) -> set[str]:
    return {e.calendar for d in days for e in (*d.all_day, *(part.entry for part in d.timed))}

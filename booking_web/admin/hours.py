"""Hours per therapist: weekly periods with breaks and date exceptions, saved into
``practice.toml``, with a preview of the slots each of the therapist's services would offer
on a chosen day (the booking engine, `find_slots`, on the file as it is now)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime

import tomlkit
from babel.dates import get_day_names
from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits, hours_form
from booking_web.admin.blueprint import bp
from booking_web.context import runtime
from booking_web.i18n import LOCALES, _, current_language
from caldav_bridge.availability import SlotQuery, find_slots
from caldav_bridge.config import Config, ServiceConfig
from caldav_bridge.config_loader import config_from_dict
from caldav_bridge.config_writer import ConfigSnapshot
from caldav_bridge.errors import ConfigError


@dataclass(frozen=True)
class ServicePreview:
    service: ServiceConfig
    starts: list[datetime]


@bp.get("/hours")
def hours_index() -> str:
    config = runtime().config
    return render_template("admin/hours_index.html", therapists=list(config.therapists.values()))


@bp.get("/hours/<login>")
def hours(login: str) -> str:
    shot = config_edits.current()
    form = hours_form.from_file(_therapist_in(shot, login))
    return _page(login, form, shot, problem="")


@bp.post("/hours/<login>")
def hours_post(login: str) -> BaseResponse | tuple[str, int]:
    form = hours_form.parse(request.form)
    version = request.form.get(config_edits.VERSION_FIELD, "")
    shot = config_edits.current()
    before = hours_form.from_file(_therapist_in(shot, login))
    if form.errors:
        return _page(login, form, shot, problem="", version=version), 422
    keys = hours_form.changes(before, form)

    def edit(document: tomlkit.TOMLDocument) -> None:
        hours_form.apply(document, login, form, keys)

    result = config_edits.save(version, edit, "settings.hours", login, keys)
    if result.ok:
        flash(_("The hours are saved."), "success")
        return redirect(url_for("admin.hours", login=login), 303)
    status = {config_edits.Saved.CONFLICT: 409, config_edits.Saved.READ_ONLY: 403}
    keep = shot.version if result.outcome is config_edits.Saved.CONFLICT else version
    page = _page(login, form, shot, problem=result.problem, version=keep)
    return page, status.get(result.outcome, 422)


def _therapist_in(shot: ConfigSnapshot, login: str) -> dict[str, object]:
    found = config_edits.file_values(shot).get("therapists", {}).get(login)
    if not isinstance(found, dict):
        abort(404)
    return found


def _page(
    login: str,
    form: hours_form.HoursForm,
    shot: ConfigSnapshot,
    *,
    problem: str,
    version: str | None = None,
) -> str:
    rt = runtime()
    config = _config_of(shot) or rt.config
    day = _preview_day(config)
    return render_template(
        "admin/hours.html",
        login=login,
        therapist=config.therapists.get(login),
        form=form,
        weekdays=_weekday_names(),
        version=shot.version if version is None else version,
        problem=problem,
        read_only=config_edits.read_only(),
        day=day,
        previews=_previews(config, login, day),
    )


def _config_of(shot: ConfigSnapshot) -> Config | None:
    """The configuration the file holds now (the preview follows a save or a hand edit at
    once); None if the file is invalid, when the running configuration is used."""
    try:
        return config_from_dict(tomllib.loads(shot.text), config_edits.config_path())
    except (ConfigError, tomllib.TOMLDecodeError):
        return None


def _preview_day(config: Config) -> date:
    try:
        return date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return runtime().clock().astimezone(config.practice.tz).date()


def _previews(config: Config, login: str, day: date) -> list[ServicePreview]:
    if login not in config.therapists:
        return []
    services = [s for s in config.services.values() if s.active and login in s.therapists]
    rt = runtime()
    now = rt.clock()
    with rt.store.read() as tx:
        return [
            ServicePreview(
                service,
                [
                    slot.start
                    for slot in find_slots(tx, config, SlotQuery(service, (login,), day, 1), now)
                ],
            )
            for service in services
        ]


def _weekday_names() -> list[tuple[str, str]]:
    """("monday", "lundi"), ... in the admin's language."""
    names = get_day_names("wide", locale=LOCALES.get(current_language(), current_language()))
    return [(key, str(names[i]).capitalize()) for i, key in enumerate(hours_form.WEEKDAYS)]

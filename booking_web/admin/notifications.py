"""Notification settings: reminders and channels, the mail server (SMTP) and Twilio.

Three forms on one page, each saved into its table of ``practice.toml`` through
`config_edits` (only the keys that changed; comments kept; a stale form, a read-only
configuration or an invalid result changes nothing). Removing the [smtp] or [twilio] table
goes back to writing messages as files in the outbox folder. The page shows whether the
environment variables the file names for secrets are set in this process, never their value.
The test messages are `provider_checks`; the templates `message_templates`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import tomlkit
from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits
from booking_web.admin.blueprint import bp
from booking_web.admin.notification_forms import (
    SMTP_KEYS,
    SMTP_OPTIONAL,
    TWILIO_KEYS,
    TWILIO_OPTIONAL,
    Form,
    changed_keys,
    differences,
    parse_settings,
    parse_smtp,
    parse_twilio,
    settings_in_file,
    smtp_in_file,
    table_edit,
    twilio_in_file,
)
from booking_web.context import runtime
from booking_web.i18n import _
from caldav_bridge.config_writer import ConfigSnapshot, remove_key

Page = BaseResponse | tuple[str, int]
SECRET_KEYS = {"smtp": "password_env", "twilio": "auth_token_env"}


@dataclass
class TestState:
    """The test messages' forms: what was typed, field errors, and the outcome of a send."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    outcome: tuple[str, bool, str] | None = None  # (channel, sent, text)


@bp.get("/notifications")
def notifications() -> str:
    return notifications_page(config_edits.current())


@bp.post("/notifications")
def notifications_post() -> Page:
    shot = config_edits.current()
    in_file = settings_in_file(config_edits.file_values(shot).get("notifications", {}))
    return _save(parse_settings(request.form), in_file, (), shot)


@bp.post("/notifications/<any(smtp, twilio):section>")
def provider_post(section: str) -> Page:
    shot = config_edits.current()
    in_file = config_edits.file_values(shot).get(section)
    if section == "smtp":
        return _save(parse_smtp(request.form), in_file, SMTP_OPTIONAL, shot)
    return _save(parse_twilio(request.form), in_file, TWILIO_OPTIONAL, shot)


@bp.post("/notifications/<any(smtp, twilio):section>/remove")
def provider_remove(section: str) -> Page:
    version = request.form.get(config_edits.VERSION_FIELD, "")

    def edit(document: tomlkit.TOMLDocument) -> None:
        remove_key(document, (section,))

    result = config_edits.save(version, edit, f"settings.{section}.remove", section, [section])
    if result.ok:
        folder = config_edits.shown_config(config_edits.current()).notifications.outbox_dir
        text = (
            _("The mail server is removed: emails are now written as files to %(folder)s.")
            if section == "smtp"
            else _("Twilio is removed: SMS are now written as files to %(folder)s.")
        )
        flash(text % {"folder": folder}, "success")
        return redirect(url_for("admin.notifications", _anchor=f"{section}-section"), 303)
    page = notifications_page(config_edits.current(), problems={section: result.problem})
    return page, _status(result.outcome)


def _save(
    form: Form, in_file: dict[str, Any] | None, optional: tuple[str, ...], shot: ConfigSnapshot
) -> Page:
    section = form.section
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if form.errors:
        return notifications_page(shot, form=form, version=version), 422
    keys = changed_keys(in_file, form.values)
    edit = table_edit(section, keys, form.values, optional)
    result = config_edits.save(version, edit, f"settings.{section}", section, keys)
    if result.ok:
        flash(_saved_text(section), "success")
        _warn_missing_secret(section, form.values)
        return redirect(url_for("admin.notifications", _anchor=f"{section}-section"), 303)
    if result.outcome is config_edits.Saved.CONFLICT:
        theirs = differences(section, in_file, form.values)
        page = notifications_page(
            shot, form=form, problems={section: result.problem}, theirs=theirs
        )
        return page, 409
    page = notifications_page(shot, form=form, version=version, problems={section: result.problem})
    return page, _status(result.outcome)


def _status(outcome: config_edits.Saved) -> int:
    return {config_edits.Saved.CONFLICT: 409, config_edits.Saved.READ_ONLY: 403}.get(outcome, 422)


def _saved_text(section: str) -> str:
    if section == "smtp":
        return _("The mail server settings are saved.")
    if section == "twilio":
        return _("The Twilio settings are saved.")
    return _("The notification settings are saved.")


def _warn_missing_secret(section: str, values: dict[str, Any]) -> None:
    name = values.get(SECRET_KEYS.get(section, ""), "")
    if name and not runtime().environ.get(name):
        flash(
            _(
                "%(variable)s is not set in this server's environment: set it (for the server "
                "and every watcher) before messages can be sent."
            )
            % {"variable": name},
            "error",
        )


def notifications_page(
    shot: ConfigSnapshot,
    *,
    form: Form | None = None,
    version: str | None = None,
    problems: dict[str, str] | None = None,
    theirs: dict[str, Any] | None = None,
    test: TestState | None = None,
) -> str:
    in_file = config_edits.file_values(shot)
    forms = {
        "notifications": Form("notifications", settings_in_file(in_file.get("notifications", {}))),
        "smtp": Form("smtp", smtp_in_file(in_file.get("smtp"))),
        "twilio": Form("twilio", twilio_in_file(in_file.get("twilio"))),
    }
    versions = dict.fromkeys(forms, shot.version)
    if form is not None:
        forms[form.section] = form
        versions[form.section] = shot.version if version is None else version
    config = config_edits.shown_config(shot)
    return render_template(
        "admin/notifications.html",
        forms=forms,
        errors={k: v for f in forms.values() for k, v in f.errors.items()},
        versions=versions,
        problems=problems or {},
        theirs=theirs or {},
        configured={name: name in in_file for name in ("smtp", "twilio")},
        secrets=_secrets(in_file),
        outbox=config.notifications.outbox_dir,
        read_only=config_edits.read_only(),
        test=test or TestState({"email": config.practice.email, "phone": ""}),
        smtp_keys=SMTP_KEYS,
        twilio_keys=TWILIO_KEYS,
    )


def _secrets(in_file: dict[str, Any]) -> dict[str, tuple[str, bool]]:
    """For each provider in the file: the variable it names for its secret, and whether it is
    set in this process's environment (its value is never shown)."""
    environ = runtime().environ
    found: dict[str, tuple[str, bool]] = {}
    for section, key in SECRET_KEYS.items():
        table = in_file.get(section)
        if isinstance(table, dict):
            default = "TWILIO_AUTH_TOKEN" if section == "twilio" else ""
            name = str(table.get(key, default))
            if name:
                found[section] = (name, bool(environ.get(name)))
    return found

"""The texts of the messages, per message and language: see, edit, preview, save, reset.

The page shows the override in the practice's templates folder if there is one, else the
default. "Preview" renders the edited text with sample data without saving; "Save" renders it
the same way first and refuses a text that does not render (naming the line), then writes the
override atomically if the file is still as it was when the form was opened
(`caldav_bridge.notify.template_files`). "Reset" deletes the override. The watcher uses a saved
text from the next message on, without a restart.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import unescape
from pathlib import Path

from flask import abort, after_this_request, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from booking_web.admin import config_edits
from booking_web.admin.blueprint import bp, current_admin
from booking_web.admin.template_texts import DESCRIPTIONS, problem_text
from booking_web.context import runtime
from booking_web.i18n import NAMES, _
from booking_web.security import CONTENT_SECURITY_POLICY
from caldav_bridge.config import Config
from caldav_bridge.config_writer import ConfigReadOnlyError
from caldav_bridge.notify.template_check import (
    MAX_CHARACTERS,
    Preview,
    TemplateProblem,
    normalized,
    preview,
)
from caldav_bridge.notify.template_files import (
    MESSAGES,
    TemplateConflictError,
    TemplateText,
    read_template,
    remove_override,
    save_override,
    templates_folder,
)

Page = str | BaseResponse | tuple[str, int]
STYLE_ATTRIBUTE = re.compile(r'\sstyle="([^"]*)"')


@bp.get("/notifications/templates")
def message_templates() -> str:
    languages = _languages()
    rows = [
        (name, _(DESCRIPTIONS[name]), [read_template(_folder(), lang, name) for lang in languages])
        for name in MESSAGES
    ]
    return render_template(
        "admin/message_templates.html",
        rows=rows,
        template_languages=[(code, NAMES[code]) for code in languages],
    )


@bp.get("/notifications/templates/<language>/<name>")
def message_template(language: str, name: str) -> str:
    current = _template(language, name)
    return _page(current, current.text, current.version)


@bp.post("/notifications/templates/<language>/<name>")
def message_template_post(language: str, name: str) -> Page:
    current = _template(language, name)
    text = normalized(request.form.get("text", "")[: MAX_CHARACTERS + 1])
    version = request.form.get(config_edits.VERSION_FIELD, "")
    if request.form.get("do") != "save":
        return _page(current, text, version)
    config = config_edits.shown_config(config_edits.current())
    try:
        preview(config, _folder(), language, name, text)
    except TemplateProblem as problem:
        return _page(current, text, version, problem=problem_text(problem)), 422
    try:
        save_override(_folder(), language, name, text, version, read_only=config_edits.read_only())
    except ConfigReadOnlyError:
        return _page(current, text, version, problem=config_edits.read_only_text()), 403
    except TemplateConflictError:
        return _conflict(current, text)
    except OSError as exc:
        return _page(current, text, version, problem=_not_written(exc)), 500
    _audit("template.save", current)
    flash(_("The text is saved: the next message uses it."), "success")
    return redirect(url_for("admin.message_template", language=language, name=name), 303)


@bp.post("/notifications/templates/<language>/<name>/reset")
def message_template_reset(language: str, name: str) -> Page:
    current = _template(language, name)
    version = request.form.get(config_edits.VERSION_FIELD, "")
    try:
        removed = remove_override(
            _folder(), language, name, version, read_only=config_edits.read_only()
        )
    except ConfigReadOnlyError:
        return _page(current, current.text, version, problem=config_edits.read_only_text()), 403
    except TemplateConflictError:
        return _conflict(current, current.text)
    except OSError as exc:
        return _page(current, current.text, version, problem=_not_written(exc)), 500
    if removed:
        _audit("template.reset", current)
        flash(_("The default text is used again."), "success")
    else:
        flash(_("This message already uses the default text."), "info")
    return redirect(url_for("admin.message_template", language=language, name=name), 303)


def _languages() -> tuple[str, ...]:
    return config_edits.shown_config(config_edits.current()).practice.languages


def _folder() -> Path:
    return templates_folder(config_edits.config_path())


def _template(language: str, name: str) -> TemplateText:
    if name not in MESSAGES or language not in _languages():
        abort(404)
    return read_template(_folder(), language, name)


def _audit(action: str, template: TemplateText) -> None:
    with runtime().store.write() as tx:
        tx.audit(current_admin(), action, f"templates/{template.language}/{template.name}")


def _conflict(current: TemplateText, text: str) -> tuple[str, int]:
    problem = _(
        "The file was changed since you opened this form, so nothing was saved. Your text is "
        "kept below, with the file's current text next to it: check it and save again."
    )
    return _page(current, text, current.version, problem=problem, theirs=current.text), 409


def _not_written(exc: OSError) -> str:
    return _("Nothing was saved: the file could not be written (%(error)s).") % {
        "error": exc.strerror or str(exc)
    }


def _page(
    current: TemplateText, text: str, version: str, *, problem: str = "", theirs: str | None = None
) -> str:
    config = config_edits.shown_config(config_edits.current())
    shown: Preview | None = None
    if not problem:
        shown, problem = _preview(config, current, text)
    if shown is not None and shown.html:
        _allow_styles_of(shown.html)
    return render_template(
        "admin/message_template.html",
        template=current,
        description=_(DESCRIPTIONS[current.name]),
        language_name=NAMES[current.language],
        text=text,
        version=version,
        problem=problem,
        theirs=theirs,
        preview=shown,
        names=shown.names if shown else _names(config, current),
        read_only=config_edits.read_only(),
        max_characters=MAX_CHARACTERS,
    )


def _preview(config: Config, current: TemplateText, text: str) -> tuple[Preview | None, str]:
    try:
        found = preview(config, _folder(), current.language, current.name, text)
    except TemplateProblem as problem:
        return None, problem_text(problem)
    return found, ""


def _names(config: Config, current: TemplateText) -> tuple[str, ...]:
    """The values the message may use (from its default text, which always renders)."""
    try:
        return preview(config, _folder(), current.language, current.name, current.default).names
    except TemplateProblem as problem:
        return problem.names


def _allow_styles_of(html: str) -> None:
    """Let the preview frame apply the email's own style attributes, and only those: the
    frame inherits this page's policy, which otherwise blocks every inline style."""
    hashes = sorted({_style_hash(unescape(value)) for value in STYLE_ATTRIBUTE.findall(html)})
    if not hashes:
        return
    policy = f"{CONTENT_SECURITY_POLICY}; style-src 'self' 'unsafe-hashes' {' '.join(hashes)}"

    @after_this_request
    def allow(response: BaseResponse) -> BaseResponse:
        response.headers["Content-Security-Policy"] = policy
        return response


def _style_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode()}'"

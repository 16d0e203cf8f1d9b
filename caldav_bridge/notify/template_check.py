"""Whether an edited message template can be used, and what it will look like.

A draft is rendered the way the watcher renders it (`samples.sample_messages`: every message
of its language, with the practice's settings and a sample patient), in Jinja2's sandbox with
undefined names as errors, so a draft that passes works for real messages too. On top, every
name the draft uses is checked against the values its message receives, so a mistake in a
branch the samples do not take (``{% if by_role == "therapist" %}``) is found as well; an SMS
asking for a value only emails receive (the service, the therapist, the place) is refused for
the patient's privacy (DESIGN.md §8). A refusal is a `TemplateProblem` naming the line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

import jinja2
from jinja2 import meta, nodes

from caldav_bridge.config import Config
from caldav_bridge.errors import BridgeError, ConfigError
from caldav_bridge.notify.messages import Email, Outgoing
from caldav_bridge.notify.samples import sample_messages
from caldav_bridge.notify.sms_size import SmsSize, sms_size
from caldav_bridge.notify.templates import DEFAULTS, SMS, Templates

MAX_CHARACTERS = 10_000
ProblemKind = Literal[
    "empty", "too_long", "characters", "syntax", "unknown_name", "sms_private", "render"
]


class TemplateProblem(BridgeError):
    """Why a draft cannot be used: ``line`` of the draft (None: not one line), the technical
    ``detail``, and ``names``: the values the message may use. ``file`` is set when the
    failure is in another template the draft includes."""

    def __init__(
        self,
        kind: ProblemKind,
        *,
        line: int | None = None,
        detail: str = "",
        names: tuple[str, ...] = (),
        file: str = "",
    ) -> None:
        super().__init__(f"{kind} at line {line}: {detail}" if line else f"{kind}: {detail}")
        self.kind = kind
        self.line = line
        self.detail = detail
        self.names = names
        self.file = file


@dataclass(frozen=True)
class Preview:
    """A message as the draft writes it: ``subject`` and ``html`` for an email (else None),
    ``text`` (the email's plain text or the SMS), ``size`` for an SMS; ``names``: the values
    the message may use."""

    subject: str | None
    text: str
    html: str | None
    size: SmsSize | None
    names: tuple[str, ...]


def normalized(text: str) -> str:
    """The text as a browser's textarea sends it, with Unix line ends and a final one."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.rstrip("\n") + "\n"


def preview(config: Config, folder: Path, language: str, name: str, text: str) -> Preview:
    """The message ``name`` in ``language`` written by ``text`` (instead of the file); raises
    `TemplateProblem` if the draft cannot be used."""
    _check_text(text)
    draft = f"{language}/{name}.txt"
    templates = _RecordingTemplates(folder, strict=True, drafts={draft: text})
    _check_syntax(templates, text, draft)
    try:
        messages = sample_messages(config, templates, language)
    except ConfigError as exc:
        _check_names(templates, text, draft, name)
        raise _render_problem(exc, draft, folder, templates) from exc
    _check_names(templates, text, draft, name)
    names = tuple(sorted(templates.names.get(draft, ())))
    return _preview_of(next(m for m in messages if m.template == name), names)


def _check_text(text: str) -> None:
    if not text.strip():
        raise TemplateProblem("empty")
    if len(text) > MAX_CHARACTERS:
        raise TemplateProblem("too_long", detail=str(MAX_CHARACTERS))
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.replace("\t", " ").isprintable():
            raise TemplateProblem("characters", line=number)


def _check_syntax(templates: Templates, text: str, draft: str) -> None:
    try:
        templates.parse(text, draft)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateProblem("syntax", line=exc.lineno, detail=exc.message or "") from exc


def _check_names(templates: _RecordingTemplates, text: str, draft: str, name: str) -> None:
    """Every value the draft uses is one its message receives."""
    allowed = templates.names.get(draft)
    if allowed is None:  # never rendered: nothing to compare with (rendering failed first)
        return
    ast = templates.parse(text, draft)
    unknown = meta.find_undeclared_variables(ast) - allowed
    if not unknown:
        return
    line, first = min(
        (node.lineno, node.name)
        for node in ast.find_all(nodes.Name)
        if node.ctx == "load" and node.name in unknown
    )
    emails_only = templates.email_names() - allowed
    kind: ProblemKind = "sms_private" if name in SMS and first in emails_only else "unknown_name"
    raise TemplateProblem(kind, line=line, detail=first, names=tuple(sorted(allowed)))


def _render_problem(
    exc: ConfigError, draft: str, folder: Path, templates: _RecordingTemplates
) -> TemplateProblem:
    cause = exc.__cause__ or exc
    names = tuple(sorted(templates.names.get(draft, ())))
    if isinstance(cause, jinja2.TemplateSyntaxError):  # an included file's syntax
        where = cause.filename or cause.name or ""
        return TemplateProblem(
            "render", line=cause.lineno, detail=cause.message or "", file=_shown(where, folder)
        )
    detail = str(cause)
    if isinstance(cause, RecursionError):
        detail = "maximum recursion depth exceeded"
    elif isinstance(cause, jinja2.TemplateNotFound):
        detail = f"no template named {cause.name}"
    where, line = _failing_line(cause.__traceback__, draft, folder)
    return TemplateProblem(
        "render",
        line=line,
        detail=detail,
        names=names,
        file="" if where == draft else _shown(where, folder),
    )


def _failing_line(
    traceback: TracebackType | None, draft: str, folder: Path
) -> tuple[str, int | None]:
    """The innermost template frame of ``traceback``: its file (the draft's name for the
    draft) and line."""
    found: tuple[str, int | None] = (draft, None)
    roots = (f"{folder}{os.sep}", f"{DEFAULTS}{os.sep}")
    depth = 0
    while traceback is not None and depth < sys.getrecursionlimit():
        filename = traceback.tb_frame.f_code.co_filename
        if filename == draft or filename.startswith(roots):
            found = (filename, traceback.tb_lineno)
        traceback = traceback.tb_next
        depth += 1
    return found


def _shown(where: str, folder: Path) -> str:
    """A template file as the admin knows it: relative to the templates folder."""
    for root in (f"{folder}{os.sep}", f"{DEFAULTS}{os.sep}"):
        if where.startswith(root):
            return where[len(root) :]
    return where


def _preview_of(message: Outgoing, names: tuple[str, ...]) -> Preview:
    content = message.content
    if isinstance(content, Email):
        return Preview(content.subject, content.text, content.html, None, names)
    return Preview(None, content.body, None, sms_size(content.body), names)


class _RecordingTemplates(Templates):
    """Templates that note the names each message receives (the keys of its context)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.names: dict[str, frozenset[str]] = {}

    def _render(
        self, language: str, filename: str, context: Mapping[str, Any], *, html: bool
    ) -> str:
        if not html:
            self.names[f"{language}/{filename}"] = frozenset(context)
        return super()._render(language, filename, context, html=html)

    def email_names(self) -> frozenset[str]:
        found: set[str] = set()
        for name, keys in self.names.items():
            if name.rsplit("/", 1)[-1].removesuffix(".txt") not in SMS:
                found |= keys
        return frozenset(found)

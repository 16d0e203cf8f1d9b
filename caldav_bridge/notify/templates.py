"""The words of every message, per language, from Jinja2 templates the admin can override.

``<lang>/<name>.txt`` is looked up first in the practice's ``config/templates`` folder, then
in the defaults shipped with this package (``caldav_bridge/notify/templates``). An email
template's first line is the subject; the rest is the plain-text body. The HTML part is the
same text laid out by ``email.html`` (autoescaped: nothing a patient typed becomes markup), so
the two parts can never say different things.

Templates run in Jinja2's sandbox with undefined names as errors. SMS templates only receive
the patient's first name, date, time, practice and links: an SMS cannot show therapy details
(DESIGN.md §8) even if an edited template asks for them. Every template is rendered at
start-up (`caldav_bridge.notify.samples.check_templates`); an override that breaks later is
logged and replaced by the default.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

from caldav_bridge.config import LANGUAGES
from caldav_bridge.errors import ConfigError

log = logging.getLogger(__name__)

DEFAULTS = Path(__file__).resolve().parent / "templates"
EMAILS = (
    "booked_patient",
    "booked_therapist",
    "changed_patient",
    "changed_therapist",
    "cancelled_patient",
    "cancelled_therapist",
    "reminder_patient",
)
SMS = ("sms_booked", "sms_changed", "sms_cancelled", "sms_reminder")
LAYOUT = "email.html"
FALLBACK_LANGUAGE = "fr"
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True)
class EmailText:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Segment:
    """A piece of a line of the HTML part: text, or a link (``href``) showing ``text``."""

    text: str
    href: str | None = None


class Templates:
    def __init__(self, override_dir: Path | None = None, *, strict: bool = False) -> None:
        """``strict``: a failing override raises `ConfigError` instead of falling back."""
        self.override_dir = override_dir
        self.strict = strict
        self._envs = {
            (overridable, html): _environment(
                [override_dir, DEFAULTS] if overridable and override_dir else [DEFAULTS], html
            )
            for overridable in (True, False)
            for html in (True, False)
        }

    def email(self, language: str, name: str, context: Mapping[str, Any]) -> EmailText:
        rendered = self._render(language, f"{name}.txt", context, html=False)
        first, _, rest = rendered.lstrip("\n").partition("\n")
        subject = " ".join(first.split())
        text = rest.strip("\n") + "\n"
        layout = {"subject": subject, "paragraphs": paragraphs(text), "language": language}
        return EmailText(subject, text, self._render(language, LAYOUT, layout, html=True))

    def sms(self, language: str, name: str, context: Mapping[str, Any]) -> str:
        return " ".join(self._render(language, f"{name}.txt", context, html=False).split())

    def _render(
        self, language: str, filename: str, context: Mapping[str, Any], *, html: bool
    ) -> str:
        name = _name(language, filename)
        try:
            return self._env(True, html).get_template(name).render(context)
        except jinja2.TemplateError as exc:
            if self.override_dir is None:
                raise
            if self.strict:
                origin = getattr(exc, "filename", None) or self._origin(language, filename)
                raise ConfigError(str(origin), "", f"template error: {exc}") from exc
            log.warning("template %s failed (%s); using the default", name, exc)
            return self._env(False, html).get_template(name).render(context)

    def _env(self, overridable: bool, html: bool) -> SandboxedEnvironment:
        return self._envs[(overridable, html)]

    def _origin(self, language: str, filename: str) -> str:
        if self.override_dir is not None:
            for candidate in (
                self.override_dir / language / filename,
                self.override_dir / filename,
            ):
                if candidate.is_file():
                    return str(candidate)
        return str(DEFAULTS / language / filename)


def paragraphs(text: str) -> list[list[list[Segment]]]:
    """``text`` as paragraphs of lines of segments, with its URLs as links."""
    blocks = [block for block in re.split(r"\n\s*\n", text.strip("\n")) if block.strip()]
    return [[_segments(line) for line in block.split("\n")] for block in blocks]


def _segments(line: str) -> list[Segment]:
    found: list[Segment] = []
    position = 0
    for match in _URL.finditer(line):
        if match.start() > position:
            found.append(Segment(line[position : match.start()]))
        found.append(Segment(match.group(), match.group()))
        position = match.end()
    if position < len(line):
        found.append(Segment(line[position:]))
    return found


def _name(language: str, filename: str) -> str:
    """``<lang>/<file>`` when that language has the template, else the fallback's or the root's."""
    folder = language if language in LANGUAGES else FALLBACK_LANGUAGE
    return f"{folder}/{filename}"


def _environment(search: list[Path | None], html: bool) -> SandboxedEnvironment:
    folders = [str(folder) for folder in search if folder is not None]
    loader = jinja2.ChoiceLoader(
        [
            jinja2.FileSystemLoader(folders),
            # `<lang>/email.html` may be overridden; else the layout shared by all languages.
            jinja2.PrefixLoader(
                {lang: jinja2.FileSystemLoader(folders) for lang in LANGUAGES}, delimiter="/"
            ),
        ]
    )
    return SandboxedEnvironment(
        loader=loader,
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # an included block ends its last line
        auto_reload=True,
    )

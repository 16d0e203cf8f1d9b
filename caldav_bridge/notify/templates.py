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

Every process follows the files without a restart: a template is looked up again each time
it is used, and its compiled form is reused only while the same file holds the same text (an
override added, edited within one timestamp tick, or removed is seen at once). A draft (the
admin panel's preview) is rendered in place of its file without being written.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from jinja2.loaders import split_template_path
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
    def __init__(
        self,
        override_dir: Path | None = None,
        *,
        strict: bool = False,
        drafts: Mapping[str, str] | None = None,
    ) -> None:
        """``strict``: a failing override raises `ConfigError` instead of falling back.
        ``drafts``: texts used instead of files, by name (``"fr/booked_patient.txt"``)."""
        self.override_dir = override_dir
        self.strict = strict
        self.drafts = dict(drafts or {})
        overrides = self.drafts if override_dir else {}
        self._envs = {
            (overridable, html): _environment(
                [override_dir, DEFAULTS] if overridable and override_dir else [DEFAULTS],
                overrides if overridable else {},
                html,
            )
            for overridable in (True, False)
            for html in (True, False)
        }

    def email(self, language: str, name: str, context: Mapping[str, Any]) -> EmailText:
        rendered = self._render(language, f"{name}.txt", context, html=False)
        first, _, rest = rendered.lstrip("\n").partition("\n")
        subject = " ".join(first.split())
        text = rest.strip("\n") + "\n"
        return EmailText(subject, text, self.html(language, subject, text))

    def html(self, language: str, subject: str, text: str) -> str:
        """The HTML part of an email whose plain text is ``text``."""
        layout = {"subject": subject, "paragraphs": paragraphs(text), "language": language}
        return self._render(language, LAYOUT, layout, html=True)

    def parse(self, source: str, name: str) -> jinja2.nodes.Template:
        """``source`` as a template's syntax tree; raises `jinja2.TemplateSyntaxError`."""
        return self._env(True, False).parse(source, name=name)

    def sms(self, language: str, name: str, context: Mapping[str, Any]) -> str:
        return " ".join(self._render(language, f"{name}.txt", context, html=False).split())

    def _render(
        self, language: str, filename: str, context: Mapping[str, Any], *, html: bool
    ) -> str:
        name = _name(language, filename)
        try:
            return self._env(True, html).get_template(name).render(context)
        except Exception as exc:  # an override can fail in many ways (TypeError, bad UTF-8...)
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


class FolderLoader(jinja2.BaseLoader):
    """Each template from the first folder that has it, a draft of the same name first.

    ``<lang>/<file>`` falls back to ``<file>`` (`<lang>/email.html` may be overridden; else the
    layout shared by all languages). A loaded template stays valid while looking it up again
    finds the same file with the same text (Jinja2 asks before each reuse, ``auto_reload``).
    """

    def __init__(self, folders: Sequence[Path], drafts: Mapping[str, str]) -> None:
        self.folders = tuple(folders)
        self.drafts = dict(drafts)

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        if template in self.drafts:
            return self.drafts[template], template, lambda: True
        found = self.find(template)
        if found is None:
            raise jinja2.TemplateNotFound(template)
        path, text = found
        return text, str(path), lambda: self.find(template) == found

    def find(self, template: str) -> tuple[Path, str] | None:
        """The file ``template`` names now, and its text."""
        for candidate in self._candidates(split_template_path(template)):
            try:
                return candidate, candidate.read_text(encoding="utf-8")
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
                continue
        return None

    def _candidates(self, pieces: list[str]) -> Iterator[Path]:
        names = [pieces]
        if len(pieces) > 1 and pieces[0] in LANGUAGES:
            names.append(pieces[1:])
        for name in names:
            for folder in self.folders:
                yield folder.joinpath(*name)


def _environment(
    search: list[Path | None], drafts: Mapping[str, str], html: bool
) -> SandboxedEnvironment:
    loader = FolderLoader([folder for folder in search if folder is not None], drafts)
    return SandboxedEnvironment(
        loader=loader,
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,  # an included block ends its last line
        auto_reload=True,
    )

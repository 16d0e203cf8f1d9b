"""The message templates the admin may override, as files: read, save and reset.

An override is ``<config folder>/templates/<lang>/<name>.txt`` (see ``config/templates/
README.md``). Like ``practice.toml`` (`caldav_bridge.config_writer`), a change states the
version of the file it was based on: a file changed since (a hand edit, another admin) is a
`TemplateConflictError` and nothing is written. Writers are serialised by a lock next to the
templates folder and the file is replaced atomically, so the watcher reads the old text or
the new one. Checking that a text renders is `template_check`'s job, before `save`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from caldav_bridge.atomic_files import locked, replace_text
from caldav_bridge.config import LANGUAGES
from caldav_bridge.config_writer import ConfigReadOnlyError, version_of
from caldav_bridge.errors import BridgeError
from caldav_bridge.notify.templates import DEFAULTS, EMAILS, SMS

FOLDER_NAME = "templates"
NO_OVERRIDE = "default"  # the version of an override that does not exist
MESSAGES = (*EMAILS, *SMS)


class TemplateConflictError(BridgeError):
    """The override changed since the form was opened; nothing was written."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed since it was read; reload and apply the change again")
        self.path = path


@dataclass(frozen=True)
class TemplateText:
    language: str
    name: str
    text: str  # the override's text if there is one, else the default's
    default: str
    overridden: bool
    version: str  # of the override (`NO_OVERRIDE` when there is none)
    path: Path  # where the override is (or would be)

    @property
    def sms(self) -> bool:
        return self.name in SMS


def templates_folder(config_path: Path) -> Path:
    """The practice's templates folder: ``templates`` next to ``practice.toml``."""
    return config_path.parent / FOLDER_NAME


def override_path(folder: Path, language: str, name: str) -> Path:
    if name not in MESSAGES or language not in LANGUAGES:
        raise ValueError(f"not a message template: {language}/{name}")
    return folder / language / f"{name}.txt"


def read_template(folder: Path, language: str, name: str) -> TemplateText:
    path = override_path(folder, language, name)
    default = (DEFAULTS / language / f"{name}.txt").read_text(encoding="utf-8")
    override = _read(path)
    return TemplateText(
        language=language,
        name=name,
        text=default if override is None else override,
        default=default,
        overridden=override is not None,
        version=_version(override),
        path=path,
    )


def save_override(
    folder: Path, language: str, name: str, text: str, based_on: str, *, read_only: bool
) -> Path:
    """Write ``text`` as the override if it is still at version ``based_on``."""
    path = override_path(folder, language, name)
    if read_only:
        raise ConfigReadOnlyError(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with locked(folder):
        _check_version(path, based_on)
        replace_text(path, text, _mode_of(folder.parent / "practice.toml"))
    return path


def remove_override(
    folder: Path, language: str, name: str, based_on: str, *, read_only: bool
) -> bool:
    """Delete the override (back to the default) if it is still at ``based_on``; False when
    there was none."""
    path = override_path(folder, language, name)
    if read_only:
        raise ConfigReadOnlyError(path)
    if not folder.is_dir():  # nothing to lock, nothing to remove
        _check_version(path, based_on)
        return False
    with locked(folder):
        _check_version(path, based_on)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
    return True


def _check_version(path: Path, based_on: str) -> None:
    if _version(_read(path)) != based_on:
        raise TemplateConflictError(path)


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:  # a hand edit in another encoding: shown as found, not lost
        return path.read_bytes().decode("utf-8", "replace")


def _version(text: str | None) -> str:
    return NO_OVERRIDE if text is None else version_of(text)


def _mode_of(path: Path) -> int | None:
    with contextlib.suppress(OSError):
        return path.stat().st_mode & 0o666
    return None

"""Changing ``practice.toml`` from the admin panel without losing anyone's work.

- Comments and layout survive: the file is edited as a tomlkit document, not re-serialised.
- Nothing invalid is written: the edited text is validated as a whole before it replaces the
  file, and a `ConfigError` names the key, as for a hand edit.
- Nothing is lost silently: an edit states the version (content hash) of the file it was based
  on; if the file changed since (a hand edit, another admin), `ConfigConflictError` is raised
  and nothing is written. Writers in different processes are serialised by a lock file.
- The replacement is atomic (write a temporary file, fsync, rename), so a reader sees the old
  file or the new one, never half of it; every process picks the change up by itself
  (`ConfigSource` watches the file).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import Table

from caldav_bridge.config import Config
from caldav_bridge.config_loader import config_from_dict
from caldav_bridge.errors import BridgeError, ConfigError


class ConfigConflictError(BridgeError):
    """The file changed since the form was opened; the edit was not written."""

    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} changed since it was read; reload and apply the change again")
        self.path = path


class ConfigReadOnlyError(BridgeError):
    def __init__(self, path: Path) -> None:
        super().__init__(f"{path} is read-only for the admin panel ([server] config_read_only)")
        self.path = path


@dataclass(frozen=True)
class ConfigSnapshot:
    """The file as read for a form: its text and its version."""

    text: str
    version: str

    def document(self) -> tomlkit.TOMLDocument:
        return tomlkit.parse(self.text)


Edit = Callable[[tomlkit.TOMLDocument], None]


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def snapshot(path: Path) -> ConfigSnapshot:
    text = path.read_text(encoding="utf-8")
    return ConfigSnapshot(text, version_of(text))


def apply_edit(path: Path, based_on: str, edit: Edit, *, read_only: bool = False) -> Config:
    """Apply ``edit`` to the file if it is still at version ``based_on``; return the new config.

    Raises `ConfigReadOnlyError`, `ConfigConflictError` or `ConfigError`; in every case the
    file is unchanged.
    """
    if read_only:
        raise ConfigReadOnlyError(path)
    with _locked(path):
        current = snapshot(path)
        if current.version != based_on:
            raise ConfigConflictError(path)
        document = current.document()
        edit(document)
        text = document.as_string()
        try:
            config = config_from_dict(tomllib.loads(text), path)
        except tomllib.TOMLDecodeError as exc:  # an edit produced bad syntax: our bug, refuse
            raise ConfigError(str(path), "", f"the edit would make invalid TOML: {exc}") from exc
        _replace(path, text)
    return config


def set_value(document: tomlkit.TOMLDocument, key: Sequence[str], value: Any) -> None:
    """Set ``a.b.c = value``, creating the tables on the way; keeps the key's comment."""
    table = _table(document, key[:-1])
    table[key[-1]] = value


def remove_key(document: tomlkit.TOMLDocument, key: Sequence[str]) -> None:
    """Remove ``a.b.c`` if present (a key or a whole table)."""
    with contextlib.suppress(KeyError):
        del _table(document, key[:-1], create=False)[key[-1]]


def _table(
    document: tomlkit.TOMLDocument, key: Sequence[str], *, create: bool = True
) -> Container | Table:
    node: Container | Table = document
    for name in key:
        if name not in node:
            if not create:
                raise KeyError(name)
            node[name] = tomlkit.table()
        child = node[name]
        if not isinstance(child, Table | Container):
            raise ConfigError("", ".".join(key), "expected a table")
        node = child
    return node


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _replace(path: Path, text: str) -> None:
    mode = path.stat().st_mode & 0o777
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

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
import hashlib
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, Table, Whitespace

from caldav_bridge.atomic_files import locked, replace_text
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
    with locked(path):
        current = snapshot(path)
        if current.version != based_on:
            raise ConfigConflictError(path)
        document = current.document()
        introductions = _detach_introductions(document)
        edit(document)
        _reattach_introductions(document, introductions)
        text = document.as_string()
        try:
            config = config_from_dict(tomllib.loads(text), path)
        except tomllib.TOMLDecodeError as exc:  # an edit produced bad syntax: our bug, refuse
            raise ConfigError(str(path), "", f"the edit would make invalid TOML: {exc}") from exc
        replace_text(path, text)
    return config


def set_value(document: tomlkit.TOMLDocument, key: Sequence[str], value: Any) -> None:
    """Set ``a.b.c = value``, creating the tables on the way; keeps the key's comment. A new
    table or array of tables starts after a blank line."""
    table = _table(document, key[:-1])
    if isinstance(value, Table | AoT) and key[-1] not in table and isinstance(table, Table):
        _end_with_blank_line(table)
    table[key[-1]] = value


def add_table(document: tomlkit.TOMLDocument, parent: str, name: str, table: Table) -> None:
    """Add ``[parent.name]`` below the last of the ``[parent.*]`` tables.

    The comment block that ends the last table after a blank line introduces what follows
    (e.g. "# Services ..."), so it moves below the new table, still above that section.
    """
    if parent not in document:
        document[parent] = tomlkit.table(is_super_table=True)
    siblings = document[parent]
    assert isinstance(siblings, Table)
    if len(siblings):
        introduction = _introduction(siblings)
        _end_with_blank_line(siblings)
        table.value.body.extend(introduction)
    siblings[name] = table


Body = list[tuple[Any, Any]]


def _introduction(node: Table) -> Body:
    """Take the blank line and comment block that end ``node``'s printed text out of it; the
    blank line stays there too.

    tomlkit keeps a comment above a table header in the body of the table printed before, but
    such a block introduces what follows (e.g. "# Services ..." below the last therapist);
    comments right below the last key stay with that key.
    """
    body = _last_table(node).value.body
    trailing: Body = []
    while body and body[-1][0] is None and isinstance(body[-1][1], Comment | Whitespace):
        trailing.insert(0, body.pop())
    blank = next((i for i, (_, v) in enumerate(trailing) if isinstance(v, Whitespace)), None)
    if blank is None:
        body.extend(trailing)
        return []
    body.extend(trailing[:blank])
    body.append((None, tomlkit.ws(trailing[blank][1].s)))
    return trailing[blank:]


def _detach_introductions(document: tomlkit.TOMLDocument) -> dict[str, Body]:
    """Each top-level table's closing introduction, taken out before an edit: a key or table
    the edit adds at the end of a section then comes above it, not below it."""
    return {name: _introduction(item) for name, item in document.items() if isinstance(item, Table)}


def _reattach_introductions(document: tomlkit.TOMLDocument, found: dict[str, Body]) -> None:
    """Put each introduction back at the end of its section, after what the edit added."""
    for name, introduction in found.items():
        section = document.get(name)
        if not introduction or not isinstance(section, Table):
            continue
        body = _last_table(section).value.body
        while body and body[-1][0] is None and isinstance(body[-1][1], Whitespace):
            body.pop()  # the introduction starts with its own blank line
        body.extend(introduction)


def _end_with_blank_line(node: Table) -> None:
    """A blank line after what ``node`` prints last, before a table added to it."""
    body = _last_table(node).value.body
    if body and not (body[-1][0] is None and isinstance(body[-1][1], Whitespace)):
        body.append((None, tomlkit.ws("\n")))


def _last_table(node: Table) -> Table:
    """The table printed last among ``node`` and its sub-tables (an empty array of tables
    prints nothing)."""
    while True:
        nested = [
            item
            for key, item in node.value.body
            if isinstance(item, Table) or (isinstance(item, AoT) and len(item))
        ]
        if not nested:
            return node
        child = nested[-1]
        node = child[-1] if isinstance(child, AoT) else child


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
            if isinstance(node, Table):
                _end_with_blank_line(node)
            node[name] = tomlkit.table()
        child = node[name]
        if not isinstance(child, Table | Container):
            raise ConfigError("", ".".join(key), "expected a table")
        node = child
    return node

"""A validating reader over parsed TOML tables.

Every value is read through a `Table`, which knows the file and the dotted key, so every error
names the file, the key, the bad value and what was expected. A table remembers which keys
were read; `done()` rejects the others, suggesting the nearest known key.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from datetime import date, time
from typing import Any, NoReturn

from caldav_bridge.errors import ConfigError

_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def show(value: object) -> str:
    """A value as the user wrote it in TOML, for error messages."""
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if not isinstance(value, int | float) else str(value)


class Table:
    """One TOML table at a dotted ``key`` inside ``path``."""

    def __init__(self, path: str, key: str, data: dict[str, Any]) -> None:
        self.path = path
        self.key = key
        self.data = data
        self._read: set[str] = set()

    def child_key(self, name: str) -> str:
        return f"{self.key}.{name}" if self.key else name

    def fail(self, name: str, problem: str) -> NoReturn:
        raise ConfigError(self.path, self.child_key(name) if name else self.key, problem)

    def missing(self, name: str, expected: str) -> NoReturn:
        """Fail for a missing key, naming a likely misspelling of it when there is one."""
        for other in self.data:
            if other != name and difflib.get_close_matches(other, [name], n=1, cutoff=0.75):
                self.fail(other, f"unknown key; did you mean {show(name)}?")
        self.fail(name, f"missing; expected {expected}")

    def has(self, name: str) -> bool:
        return name in self.data

    def raw(self, name: str, default: Any = None) -> Any:
        self._read.add(name)
        return self.data.get(name, default)

    def table(self, name: str, *, required: bool = False) -> Table:
        value = self.raw(name)
        if value is None:
            if required:
                self.missing(name, f"a [{self.child_key(name)}] section")
            value = {}
        if not isinstance(value, dict):
            self.fail(
                name, f"{show(value)} is not a table; expected a [{self.child_key(name)}] section"
            )
        return Table(self.path, self.child_key(name), value)

    def tables(self) -> Iterator[tuple[str, Table]]:
        """Each sub-table of this table, e.g. each ``[therapists.<login>]``."""
        for name in list(self.data):
            yield name, self.table(name)

    def table_list(self, name: str) -> list[Table]:
        value = self.raw(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.fail(name, f"expected an array of tables ([[{self.child_key(name)}]])")
        return [Table(self.path, f"{self.child_key(name)}[{i}]", v) for i, v in enumerate(value)]

    def text(self, name: str, default: str | None = None, *, choices: Sequence[str] = ()) -> str:
        value = self.raw(name, default)
        if value is None:
            self.missing(name, "a text value")
        if not isinstance(value, str):
            self.fail(name, f"{show(value)} is not text; expected a quoted string")
        if "\n" in value or "\r" in value:
            self.fail(name, "contains a line break; expected a single line")
        if choices and value not in choices:
            self.fail(name, f"{show(value)} is not allowed; expected one of: {', '.join(choices)}")
        return value

    def integer(
        self, name: str, default: int | None = None, *, low: int, high: int, what: str
    ) -> int:
        value = self.raw(name, default)
        if value is None:
            self.missing(name, what)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(name, f"{show(value)} is not a whole number; expected {what}")
        if not low <= value <= high:
            self.fail(name, f"{value} is out of range; expected {what} from {low} to {high}")
        return value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name, default)
        if not isinstance(value, bool):
            self.fail(name, f"{show(value)} is not a boolean; expected true or false")
        return value

    def texts(self, name: str, default: Sequence[str] | None = None) -> list[str]:
        value = self.raw(name, None if default is None else list(default))
        if value is None:
            self.missing(name, "a list of strings")
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(name, f'{show(value)} is not a list of strings; expected e.g. ["a", "b"]')
        return list(value)

    def env_name(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name, default)
        if value is None:
            return None
        if not isinstance(value, str) or not _ENV_NAME.match(value):
            self.fail(
                name,
                f"{show(value)} is not an environment variable name; expected e.g. "
                '"SMTP_PASSWORD" (the secret itself never goes in this file)',
            )
        return value

    def day(self, name: str) -> date | None:
        value = self.raw(name)
        if value is None:
            return None
        if isinstance(value, date) and not hasattr(value, "hour"):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.fail(name, f"{show(value)} is not a date; expected YYYY-MM-DD, e.g. 2026-12-24")

    def done(self) -> None:
        """Reject every key that was not read."""
        for name in self.data:
            if name not in self._read:
                known = sorted(self._read)
                hint = difflib.get_close_matches(name, known, n=1)
                problem = "unknown key"
                problem += f"; did you mean {show(hint[0])}?" if hint else ""
                problem += f" Expected one of: {', '.join(known)}" if known else ""
                self.fail(name, problem)


def parse_hhmm(text: str) -> time | None:
    match = _HHMM.match(text)
    if not match:
        return None
    return time(int(match.group(1)), int(match.group(2)))

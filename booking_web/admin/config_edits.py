"""Saving a form of the panel into ``practice.toml``: one path for every settings page.

The form carries the version of the file it was built from (hidden field ``version``);
`save` applies the edit through `caldav_bridge.config_writer.apply_edit`, which refuses a
file changed since then, a read-only configuration and an invalid result, leaving the file
as it was. Every save that happened is written to the audit log (keys, never values) and
applies in this process at once (the others follow the file within their interval).
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from booking_web.admin.blueprint import current_admin
from booking_web.context import runtime
from booking_web.i18n import _
from caldav_bridge.config import Config
from caldav_bridge.config_loader import config_from_dict
from caldav_bridge.config_writer import (
    ConfigConflictError,
    ConfigReadOnlyError,
    ConfigSnapshot,
    Edit,
    apply_edit,
    snapshot,
)
from caldav_bridge.errors import ConfigError

VERSION_FIELD = "version"


class Saved(Enum):
    OK = "ok"
    CONFLICT = "conflict"
    READ_ONLY = "read_only"
    INVALID = "invalid"


@dataclass(frozen=True)
class SaveResult:
    outcome: Saved
    problem: str = ""  # what to tell the admin when not OK
    config: Config | None = None  # the configuration saved, when OK

    @property
    def ok(self) -> bool:
        return self.outcome is Saved.OK


def config_path() -> Path:
    return runtime().config_source.path


def read_only() -> bool:
    return runtime().config.server.config_read_only


def current() -> ConfigSnapshot:
    return snapshot(config_path())


def file_values(shot: ConfigSnapshot) -> dict[str, Any]:
    """The file's content as plain values (tables as dicts)."""
    unwrapped = shot.document().unwrap()
    assert isinstance(unwrapped, dict)
    return unwrapped


def config_in(shot: ConfigSnapshot) -> Config | None:
    """The configuration the file holds now (a form follows a save or a hand edit at once);
    None if the file is invalid."""
    try:
        return config_from_dict(tomllib.loads(shot.text), config_path())
    except (ConfigError, tomllib.TOMLDecodeError):
        return None


def shown_config(shot: ConfigSnapshot) -> Config:
    """The configuration a page shows: the file's (a save or a hand edit shows at once), or
    the running one while the file is invalid."""
    return config_in(shot) or runtime().config


def file_table(shot: ConfigSnapshot, section: str, key: str) -> dict[str, Any] | None:
    """The table ``[section.key]`` as the file has it (None if it has none)."""
    found = file_values(shot).get(section, {}).get(key)
    return found if isinstance(found, dict) else None


def save(version: str, edit: Edit, action: str, subject: str, keys: Sequence[str]) -> SaveResult:
    """Apply ``edit`` if the file is still at ``version``; audit it as ``action``."""
    try:
        config = apply_edit(config_path(), version, edit, read_only=read_only())
    except ConfigReadOnlyError:
        return SaveResult(Saved.READ_ONLY, read_only_text())
    except ConfigConflictError:
        return SaveResult(Saved.CONFLICT, conflict_text())
    except ConfigError as exc:
        problem = _("Nothing was saved: the configuration would not be valid (%(problem)s).") % {
            "problem": str(exc)
        }
        return SaveResult(Saved.INVALID, problem)
    with runtime().store.write() as tx:
        tx.audit(current_admin(), action, subject, "keys=" + ",".join(keys))
    runtime().config_source.refresh()  # this process applies the change at once
    return SaveResult(Saved.OK, config=config)


def read_only_text() -> str:
    return _(
        "This deployment's configuration is read-only for the panel "
        "([server] config_read_only): change practice.toml by hand."
    )


def conflict_text() -> str:
    return _(
        "The configuration file was changed since you opened this form, so nothing was saved. "
        "Your entries are kept below, with the file's current values next to them: "
        "check them and save again."
    )

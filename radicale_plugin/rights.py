"""Radicale rights plugin: who may read and write which collection (DESIGN.md §8).

| user | path | letters | what it allows |
|---|---|---|---|
| not logged in | any | (none) | nothing: 401 |
| therapist T | ``/`` | ``R`` | discovery; a listing shows only T's principal |
| T | ``/T/`` | ``RW`` | read; create calendars in it; PROPPATCH; never delete or replace it |
| T | ``/T/appointments/`` | ``rw`` | read; write its items; PROPPATCH; never delete or replace it |
| T | ``/T/<other>/`` | ``rwDO`` | T's own calendars: create, write, PROPPATCH, delete, replace |
| T | another login's paths | (none) | 403 |
| admin | ``/``, ``/<login>/`` | ``R`` | read every principal |
| admin | ``/<login>/<calendar>/`` | ``r`` | read every calendar and its items |
| anyone | deeper paths | (none) | items get their rights from their calendar |

The admin writes nothing over CalDAV: a write there would bypass the checks the web panel
makes (slots, notifications, audit), and reading is all that supervision needs. Without
``W`` on ``/admin/`` Radicale does not create a principal for the admin either.

The ``appointments`` calendar holds the practice's bookings, so no client may delete it or
replace it with a whole-collection PUT (one stray DELETE from a phone must not wipe them).
`radicale_plugin.application` turns off Radicale's ``permit_delete_collection`` and
``permit_overwrite_collection``, so deleting a collection needs ``D`` and replacing one needs
``O``, which only the therapist's other calendars get. Deleting or replacing a principal is
refused the same way (it would delete its calendars).
"""

from __future__ import annotations

from collections.abc import Callable

from radicale import config, pathutils, rights

from caldav_bridge.store.users import Role

APPOINTMENTS = "appointments"

RoleOf = Callable[[str], Role | None]


def permissions(user: str, role: Role | None, path: str) -> str:
    """The Radicale permission letters of ``user`` on ``path`` (stripped: "anne/appointments")."""
    if not user or role is None:
        return ""
    parts = path.split("/") if path else []
    if len(parts) > 2:
        return ""
    if role == "admin":
        return "r" if len(parts) == 2 else "R"
    if role != "therapist":
        return ""
    if not parts:
        return "R"
    if parts[0] != user:
        return ""
    if len(parts) == 1:
        return "RW"
    return "rw" if parts[1] == APPOINTMENTS else "rwDO"


class Rights(rights.BaseRights):
    def __init__(self, configuration: config.Configuration, role_of: RoleOf) -> None:
        super().__init__(configuration)
        self._role_of = role_of

    def authorization(self, user: str, user_groups: set[str], path: str) -> str:
        if not user:
            return ""
        return permissions(user, self._role_of(user), pathutils.sanitize_path(path).strip("/"))

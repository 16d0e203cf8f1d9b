"""Each configured therapist's login and CalDAV collections, created when missing: at
start-up, when the admin panel adds a therapist, and when a hand edit of ``practice.toml``
adds one while the server runs (`ProvisionOnChange`).

A therapist ``anne`` gets a login without a password (the admin or `passwd` sets it), the
principal collection ``anne`` (what calendar apps discover) and the calendar
``anne/appointments`` (display name and colour from the configuration, events only).
An existing calendar keeps the name and colour the therapist may have given it in their app,
unless the configuration's own value changes (in the panel, or by hand: `ProvisionOnChange`
compares the reloaded file with the one before). The principal's ``mailto:`` address follows
the configuration, since no client can change it.

Safe when several processes do it at once: each therapist is provisioned in a write
transaction holding that therapist's lock (DESIGN.md §7), so the second process finds what the
first one created.
"""

from __future__ import annotations

import threading

from caldav_bridge.config import Config, TherapistConfig
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.store import Store, Tx

APPOINTMENTS = "appointments"
CALENDAR_USER_ADDRESS_SET = "C:calendar-user-address-set"
"""Principal property (Radicale's "prefix:name" form): space-separated ``mailto:`` URIs."""
DISPLAY_NAME = "D:displayname"
COLOR = "ICAL:calendar-color"
CONFIG_ACTOR = "config"  # who created a login that a hand edit of the file asked for


def provision_calendars(store: Store, config: Config) -> tuple[str, ...]:
    """Create the missing collections of every configured therapist; return their paths."""
    created: list[str] = []
    for therapist in config.therapists.values():
        with store.write(therapist.login) as tx:
            created.extend(_provision(tx, therapist))
    return tuple(created)


def provision_therapists(
    store: Store, config: Config, actor: str = CONFIG_ACTOR
) -> tuple[str, ...]:
    """Create the missing logins and collections of every configured therapist; return the
    paths of the collections created."""
    created: list[str] = []
    for therapist in config.therapists.values():
        created.extend(provision_therapist(store, therapist, actor))
    return tuple(created)


def provision_therapist(store: Store, therapist: TherapistConfig, actor: str) -> tuple[str, ...]:
    """``therapist``'s login (created without a password, audited as done by ``actor``),
    principal and appointments calendar, in one transaction holding their lock."""
    with store.write(therapist.login) as tx:
        if tx.user(therapist.login) is None:
            tx.ensure_user(therapist.login, "therapist")
            if not therapist.active:
                tx.set_active(therapist.login, False)
            tx.audit(actor, "login.create", therapist.login)
        return tuple(_provision(tx, therapist))


def update_calendar(store: Store, therapist: TherapistConfig) -> bool:
    """Give ``therapist``'s appointments calendar the configured display name and colour (the
    admin changed them); False if the calendar does not exist."""
    path = appointments_path(therapist.login)
    with store.write(therapist.login) as tx:
        calendar = tx.collection(path)
        if calendar is None:
            return False
        props = {k: v for k, v in calendar.props.items() if k != COLOR}
        tx.set_collection_props(path, {**props, **calendar_props(therapist)})
    return True


class ProvisionOnChange:
    """Provisions every configured therapist each time the configuration is reloaded, so a
    therapist added to the file by hand can log in without a restart, and gives a calendar
    the display name or colour changed in the file.

    `check` is cheap while the configuration is unchanged (no query): call it where no
    transaction is open, e.g. before each request. A failed provisioning is raised and
    tried again by the next `check`.
    """

    def __init__(
        self, source: ConfigSource, store: Store, *, provisioned: Config | None = None
    ) -> None:
        self._source = source
        self._store = store
        self._lock = threading.Lock()
        self._done = provisioned  # the configuration provisioned last (compared by identity)

    def check(self) -> tuple[str, ...]:
        """Provision the current configuration if it is new; the collections created."""
        config = self._source.current()
        if config is self._done:
            return ()
        with self._lock:
            if config is self._done:
                return ()
            created = provision_therapists(self._store, config)
            for therapist in _recoloured(self._done, config):
                update_calendar(self._store, therapist)
            self._done = config
        return created


def _recoloured(before: Config | None, after: Config) -> list[TherapistConfig]:
    """The therapists whose calendar name or colour ``after`` changes."""
    if before is None:
        return []
    return [
        therapist
        for login, therapist in after.therapists.items()
        if (old := before.therapists.get(login)) is not None
        and (old.calendar_name, old.color) != (therapist.calendar_name, therapist.color)
    ]


def appointments_path(login: str) -> str:
    return f"{login}/{APPOINTMENTS}"


def principal_props(therapist: TherapistConfig) -> dict[str, str]:
    return {CALENDAR_USER_ADDRESS_SET: f"mailto:{therapist.email}"} if therapist.email else {}


def calendar_props(therapist: TherapistConfig) -> dict[str, str]:
    props = {
        "tag": "VCALENDAR",
        DISPLAY_NAME: therapist.calendar_name,
        "C:supported-calendar-component-set": "VEVENT",
    }
    if therapist.color:
        props[COLOR] = therapist.color
    return props


def _provision(tx: Tx, therapist: TherapistConfig) -> list[str]:
    login = therapist.login
    created: list[str] = []
    principal = tx.collection(login)
    if principal is None:
        tx.create_collection(login, login, "", principal_props(therapist))
        created.append(login)
    else:
        props = {k: v for k, v in principal.props.items() if k != CALENDAR_USER_ADDRESS_SET}
        wanted = {**props, **principal_props(therapist)}
        if wanted != principal.props:
            tx.set_collection_props(login, wanted)
    path = appointments_path(login)
    if tx.collection(path) is None:
        tx.create_collection(path, login, "VCALENDAR", calendar_props(therapist))
        created.append(path)
    return created

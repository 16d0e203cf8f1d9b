"""Each configured therapist's CalDAV collections, created at start-up when missing.

A therapist ``anne`` gets the principal collection ``anne`` (what calendar apps discover) and
the calendar ``anne/appointments`` (display name and colour from the configuration, events
only). Existing calendars are left as they are: the therapist may rename or recolour them in
their app. The principal's ``mailto:`` address follows the configuration, since no client can
change it.

Safe when several processes start at once: each therapist is provisioned in a write
transaction holding that therapist's lock (DESIGN.md §7), so the second process finds what the
first one created.
"""

from __future__ import annotations

from caldav_bridge.config import Config, TherapistConfig
from caldav_bridge.store import Store, Tx

APPOINTMENTS = "appointments"
CALENDAR_USER_ADDRESS_SET = "C:calendar-user-address-set"
"""Principal property (Radicale's "prefix:name" form): space-separated ``mailto:`` URIs."""


def provision_calendars(store: Store, config: Config) -> tuple[str, ...]:
    """Create the missing collections of every configured therapist; return their paths."""
    created: list[str] = []
    for therapist in config.therapists.values():
        with store.write(therapist.login) as tx:
            created.extend(_provision(tx, therapist))
    return tuple(created)


def appointments_path(login: str) -> str:
    return f"{login}/{APPOINTMENTS}"


def principal_props(therapist: TherapistConfig) -> dict[str, str]:
    return {CALENDAR_USER_ADDRESS_SET: f"mailto:{therapist.email}"} if therapist.email else {}


def calendar_props(therapist: TherapistConfig) -> dict[str, str]:
    props = {
        "tag": "VCALENDAR",
        "D:displayname": therapist.calendar_name,
        "C:supported-calendar-component-set": "VEVENT",
    }
    if therapist.color:
        props["ICAL:calendar-color"] = therapist.color
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

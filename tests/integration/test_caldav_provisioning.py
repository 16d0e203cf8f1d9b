"""Each therapist's calendar exists from the first start, once, whoever starts first."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from caldav_bridge.config import Config
from caldav_bridge.config_loader import load_config
from caldav_bridge.provisioning import provision_calendars
from caldav_bridge.store import Store


def collections(store: Store) -> dict[str, tuple[str, dict[str, str]]]:
    with store.read() as tx:
        found = {}
        for principal in tx.child_collections(""):
            found[principal.path] = (principal.tag, principal.props)
            for child in tx.child_collections(principal.path):
                found[child.path] = (child.tag, child.props)
    return found


def test_every_therapist_gets_a_principal_and_an_appointments_calendar(
    store: Store, practice_toml: Path
) -> None:
    created = provision_calendars(store, load_config(practice_toml))
    assert created == ("anne", "anne/appointments", "marc", "marc/appointments")
    assert collections(store)["anne"] == (
        "",
        {"C:calendar-user-address-set": "mailto:anne@cabinet-du-lac.example"},
    )
    assert collections(store)["marc/appointments"] == (
        "VCALENDAR",
        {
            "tag": "VCALENDAR",
            "D:displayname": "Rendez-vous",
            "ICAL:calendar-color": "#3C9A5F",
            "C:supported-calendar-component-set": "VEVENT",
        },
    )


def test_a_second_start_keeps_the_therapists_own_changes(store: Store, practice_toml: Path) -> None:
    config = load_config(practice_toml)
    provision_calendars(store, config)
    with store.write("anne") as tx:
        calendar = tx.collection("anne/appointments")
        assert calendar is not None
        tx.set_collection_props("anne/appointments", {**calendar.props, "D:displayname": "Cabinet"})
    before = collections(store)
    assert provision_calendars(store, config) == ()
    assert collections(store) == before


def test_a_changed_email_address_reaches_the_principal(store: Store, practice_toml: Path) -> None:
    config = load_config(practice_toml)
    provision_calendars(store, config)
    anne = replace(config.therapists["anne"], email="anne.rochat@example.ch")
    moved: Config = replace(config, therapists={**config.therapists, "anne": anne})
    assert provision_calendars(store, moved) == ()
    assert collections(store)["anne"][1] == {
        "C:calendar-user-address-set": "mailto:anne.rochat@example.ch"
    }


def test_processes_starting_together_create_each_calendar_once(
    store: Store, practice_toml: Path
) -> None:
    config = load_config(practice_toml)
    created: list[tuple[str, ...]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def start_up() -> None:
        start.wait()
        try:
            created.append(provision_calendars(store, config))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(path for paths in created for path in paths) == [
        "anne",
        "anne/appointments",
        "marc",
        "marc/appointments",
    ]
    assert len(collections(store)) == 4

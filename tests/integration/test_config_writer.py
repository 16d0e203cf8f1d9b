"""The admin panel's writes to practice.toml: comments kept, atomic, never silently lost."""

from __future__ import annotations

import multiprocessing
from datetime import date, timedelta
from pathlib import Path

import pytest
import tomlkit

from caldav_bridge.config_loader import load_config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.config_writer import (
    ConfigConflictError,
    ConfigReadOnlyError,
    add_table,
    apply_edit,
    remove_key,
    set_value,
    snapshot,
)
from caldav_bridge.errors import ConfigError


def test_an_edit_keeps_every_comment_and_the_layout(practice_toml: Path) -> None:
    before = snapshot(practice_toml)
    config = apply_edit(
        practice_toml,
        before.version,
        lambda doc: set_value(doc, ["practice", "name"], "Cabinet du Léman"),
    )
    after = practice_toml.read_text(encoding="utf-8")
    assert config.practice.name == "Cabinet du Léman"
    assert after == before.text.replace('name = "Cabinet du Lac"', 'name = "Cabinet du Léman"', 1)
    assert "# Several periods a day; the gap between two periods is a break." in after


def test_new_hours_and_a_new_service_appear_in_the_slots_config(practice_toml: Path) -> None:
    def edit(doc: tomlkit.TOMLDocument) -> None:
        set_value(doc, ["therapists", "marc", "hours", "saturday"], ["09:00-12:00"])
        set_value(doc, ["services", "bilan-30", "name"], {"fr": "Bilan (30 min)"})
        set_value(doc, ["services", "bilan-30", "duration_minutes"], 30)
        set_value(doc, ["services", "bilan-30", "availability"], "flexible")
        set_value(doc, ["services", "bilan-30", "therapists"], ["marc"])

    config = apply_edit(practice_toml, snapshot(practice_toml).version, edit)
    assert len(config.therapists["marc"].weekly_hours[5]) == 1
    assert config.services["bilan-30"].duration == timedelta(minutes=30)
    assert load_config(practice_toml).services["bilan-30"].therapists == ("marc",)


CLAIRE_THEN_SERVICES = """[therapists.claire]
name = "Claire Dubois"
active = false

[therapists.claire.hours]
tuesday = ["14:00-18:00"]

[[therapists.claire.exceptions]]
date = 2026-12-08

# Services ("prestations"). availability: "fixed" (slots chained back to back from the start
# of each open period) or "flexible" (a start every 15 minutes where the appointment fits).
[services.seance-75]
"""


def test_what_is_added_to_the_last_therapist_stays_above_the_comment_on_services(
    practice_toml: Path,
) -> None:
    """tomlkit keeps "# Services ..." in the body of the last therapist's table: a key, hours
    or a first exception added to that therapist must still come above it."""
    before = practice_toml.read_text(encoding="utf-8")

    def new_therapist(doc: tomlkit.TOMLDocument) -> None:
        table = tomlkit.table()
        table["name"] = "Claire Dubois"
        add_table(doc, "therapists", "claire", table)

    def hours(doc: tomlkit.TOMLDocument) -> None:  # as the hours form writes them
        set_value(doc, ["therapists", "claire", "hours", "tuesday"], ["14:00-18:00"])
        set_value(doc, ["therapists", "claire", "exceptions"], tomlkit.aot())
        row = tomlkit.table()
        row["date"] = date(2026, 12, 8)
        doc["therapists"]["claire"]["exceptions"].append(row)

    def deactivate(doc: tomlkit.TOMLDocument) -> None:
        set_value(doc, ["therapists", "claire", "active"], False)

    for edit in (new_therapist, hours, deactivate):
        apply_edit(practice_toml, snapshot(practice_toml).version, edit)
    after = practice_toml.read_text(encoding="utf-8")
    assert after.startswith(before.split("# Services")[0] + CLAIRE_THEN_SERVICES)
    assert after.endswith(before[before.index("[services.seance-75]") :])
    assert load_config(practice_toml).therapists["claire"].active is False


def test_an_invalid_edit_writes_nothing_and_names_the_key(practice_toml: Path) -> None:
    before = snapshot(practice_toml)
    with pytest.raises(
        ConfigError, match=r"therapists.anne.hours.monday\[0\]: .*ends before it starts"
    ):
        apply_edit(
            practice_toml,
            before.version,
            lambda doc: set_value(doc, ["therapists", "anne", "hours", "monday"], ["18:00-08:00"]),
        )
    assert practice_toml.read_text(encoding="utf-8") == before.text


def test_a_hand_edit_since_the_form_was_opened_is_a_conflict(practice_toml: Path) -> None:
    form = snapshot(practice_toml)
    hand = form.text.replace("horizon_days = 90", "horizon_days = 60")
    practice_toml.write_text(hand, encoding="utf-8")
    with pytest.raises(ConfigConflictError):
        apply_edit(
            practice_toml, form.version, lambda doc: set_value(doc, ["booking", "horizon_days"], 30)
        )
    assert practice_toml.read_text(encoding="utf-8") == hand


def test_the_panel_can_be_made_read_only(practice_toml: Path) -> None:
    before = snapshot(practice_toml)
    with pytest.raises(ConfigReadOnlyError):
        apply_edit(
            practice_toml, before.version, lambda doc: remove_key(doc, ["web"]), read_only=True
        )
    assert practice_toml.read_text(encoding="utf-8") == before.text


def test_a_running_process_sees_a_hand_edit_without_restart(practice_toml: Path) -> None:
    ticks = iter(range(1000))
    source = ConfigSource(practice_toml, interval=1.0, monotonic=lambda: float(next(ticks)))
    assert source.current().booking.horizon == timedelta(days=90)
    text = practice_toml.read_text(encoding="utf-8").replace(
        "horizon_days = 90", "horizon_days = 45"
    )
    practice_toml.write_text(text, encoding="utf-8")
    assert source.current().booking.horizon == timedelta(days=45)
    practice_toml.write_text(
        text.replace("horizon_days = 45", 'horizon_days = "soon"'), encoding="utf-8"
    )
    assert source.current().booking.horizon == timedelta(days=45)  # the last good one is kept
    assert source.last_error is not None
    assert "booking.horizon_days" in str(source.last_error)


def _admin(path: str, version: str, value: int, results: multiprocessing.Queue[str]) -> None:
    try:
        apply_edit(
            Path(path), version, lambda doc: set_value(doc, ["booking", "horizon_days"], value)
        )
        results.put(f"saved {value}")
    except ConfigConflictError:
        results.put(f"conflict {value}")


def test_two_admins_saving_at_once_lose_nothing_silently(practice_toml: Path) -> None:
    form = snapshot(practice_toml)  # both opened the same form
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue[str] = context.Queue()
    admins = [
        context.Process(target=_admin, args=(str(practice_toml), form.version, value, results))
        for value in (30, 60)
    ]
    for admin in admins:
        admin.start()
    for admin in admins:
        admin.join(60)
    outcomes = sorted(results.get(timeout=10) for _ in admins)
    saved = [o for o in outcomes if o.startswith("saved")]
    assert len(saved) == 1
    assert len([o for o in outcomes if o.startswith("conflict")]) == 1
    value = int(saved[0].split()[1])
    assert load_config(practice_toml).booking.horizon == timedelta(days=value)

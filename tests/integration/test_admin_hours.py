"""Hours per therapist in the admin panel, on SQLite and PostgreSQL: weekly periods and date
exceptions saved into ``practice.toml`` (comments kept, only the changed keys written), the
slot preview from the booking engine, hand edits showing up in the preview and in the
booking API, and invalid or stale forms changing nothing."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.store import Store
from tests.integration.test_admin_practice import hand_edit
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin, submit
from tests.support.web import element, location

PAGE = "/admin/hours/anne"
WEDNESDAY = "2026-12-02"


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def anne_in(path: Path) -> dict[str, object]:
    found = tomllib.loads(path.read_text(encoding="utf-8"))["therapists"]["anne"]
    assert isinstance(found, dict)
    return found


def comments(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.lstrip().startswith("#")]


def preview(admin: FlaskClient, service: str, day: str = WEDNESDAY) -> str:
    return element(admin.get(PAGE, query_string={"day": day}), f"preview-{service}")


def test_the_preview_shows_the_engines_slots_of_each_service(admin: FlaskClient) -> None:
    page = admin.get(PAGE, query_string={"day": WEDNESDAY})
    assert element(page, "preview-title") == "Créneaux proposés le mercredi 2 décembre 2026"
    assert element(page, "preview-seance-75") == "14:00 15:15 16:30 17:45"
    assert element(page, "preview-suivi-45").startswith("14:00 14:15 14:30")


def test_a_panel_edit_of_the_weekly_hours_lands_in_the_file_and_the_slots(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    before = comments(practice_toml)
    answer = submit(admin, admin.get(PAGE), PAGE, {"wednesday": "09:00-12:00", "saturday": ""})
    assert location(answer) == PAGE
    assert anne_in(practice_toml)["hours"] == {
        "monday": ["08:00-12:00", "14:00-18:00"],
        "tuesday": ["08:00-12:00", "14:00-18:00"],
        "wednesday": ["09:00-12:00"],
        "thursday": ["08:00-12:00", "14:00-18:00"],
        "friday": ["08:00-12:00", "14:00-18:00"],
    }
    assert comments(practice_toml) == before
    assert preview(admin, "seance-75") == "09:00 10:15 11:30"
    with space.store.read() as tx:
        entry = tx.audit_entries(1)[0]
    assert (entry.action, entry.subject, entry.details) == (
        "settings.hours",
        "anne",
        "keys=wednesday",
    )


def test_a_closed_day_and_an_added_exception(admin: FlaskClient, practice_toml: Path) -> None:
    fields: dict[str, str | list[str]] = {
        "monday": "",
        "exc-1-from": "2026-12-02",
        "exc-1-hours": "10:00-11:15",
        "exc-1-note": "Formation",
    }
    answer = submit(admin, admin.get(PAGE), PAGE, fields)
    assert location(answer) == PAGE
    anne = anne_in(practice_toml)
    assert isinstance(anne["hours"], dict)
    assert "monday" not in anne["hours"]
    assert isinstance(anne["exceptions"], list)
    assert [str(e.get("date", e.get("from"))) for e in anne["exceptions"]] == [
        "2026-12-24",
        "2026-12-02",
    ]
    assert anne["exceptions"][1] == {
        "date": tomllib.loads("d = 2026-12-02")["d"],
        "hours": ["10:00-11:15"],
        "note": "Formation",
    }
    assert preview(admin, "seance-75") == "10:00"
    assert element(admin.get(PAGE, query_string={"day": "2026-12-07"}), "preview-seance-75") == (
        "Aucun créneau ce jour-là."
    )


def test_removing_an_exception(admin: FlaskClient, practice_toml: Path) -> None:
    answer = submit(admin, admin.get(PAGE), PAGE, {"exc-0-remove": "1"})
    assert location(answer) == PAGE
    assert "exceptions" not in anne_in(practice_toml)
    assert "[therapists.marc]" in practice_toml.read_text(encoding="utf-8")
    tomllib.loads(practice_toml.read_text(encoding="utf-8"))  # still valid


def test_a_hand_edit_shows_up_in_the_preview_and_the_booking_slots(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    space.web.runtime.config_source.interval = 0.0
    hand_edit(practice_toml, 'wednesday = ["14:00-18:00"]', 'wednesday = ["15:00-17:30"]')
    assert preview(admin, "seance-75") == "15:00 16:15"
    answer = space.web.new_client().get(
        "/api/v1/slots",
        query_string={"service": "seance-75", "therapist": "anne", "from": WEDNESDAY, "days": 1},
    )
    assert [slot["start"][11:16] for slot in answer.get_json()] == ["15:00", "16:15"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("monday", "8-12"),
        ("monday", "14:00-18:00, 08:00-12:00"),
        ("monday", "12:00-08:00"),
        ("exc-1-hours", "all day"),
    ],
)
def test_invalid_hours_get_a_message_next_to_the_field_and_nothing_is_saved(
    admin: FlaskClient, practice_toml: Path, field: str, value: str
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    extra = {"exc-1-from": "2026-12-02"} if field.startswith("exc") else {}
    answer = submit(admin, admin.get(PAGE), PAGE, {field: value, **extra})
    assert answer.status_code == 422
    assert element(answer, f"{field}-error").startswith("Veuillez saisir des périodes")
    assert practice_toml.read_text(encoding="utf-8") == before


def test_an_exception_ending_before_it_starts_is_refused(
    admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    fields = {"exc-1-from": "2026-12-10", "exc-1-to": "2026-12-09"}
    answer = submit(admin, admin.get(PAGE), PAGE, fields)
    assert answer.status_code == 422
    assert element(answer, "exc-1-to-error") == (
        "Veuillez saisir un dernier jour identique ou postérieur au premier jour."
    )
    assert practice_toml.read_text(encoding="utf-8") == before


def test_a_stale_form_is_refused_and_keeps_the_entries(
    admin: FlaskClient, practice_toml: Path
) -> None:
    page = admin.get(PAGE)
    hand_edit(practice_toml, 'name = "Marc Favre"', 'name = "Marc Favre-Dubois"')
    answer = submit(admin, page, PAGE, {"wednesday": "09:00-12:00"})
    assert answer.status_code == 409
    assert 'value="09:00-12:00"' in answer.get_data(as_text=True)
    assert anne_in(practice_toml)["hours"]["wednesday"] == ["14:00-18:00"]  # type: ignore[index]


def test_an_unknown_therapist_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/hours/nobody").status_code == 404

"""The practice configuration: the demo file, and bad files that must be explained precisely."""

from __future__ import annotations

import re
from datetime import time, timedelta
from pathlib import Path

import pytest

from caldav_bridge.config_loader import load_config
from caldav_bridge.errors import ConfigError
from caldav_bridge.opening_hours import TimeRange

DEMO = Path(__file__).resolve().parents[2] / "config" / "practice.toml"


def hours(*ranges: str) -> tuple[TimeRange, ...]:
    def parse(text: str) -> time:
        return time.fromisoformat(text)

    return tuple(TimeRange(parse(r[:5]), parse(r[6:])) for r in ranges)


def test_the_demo_practice_has_the_documented_ids() -> None:
    config = load_config(DEMO)
    assert config.practice.name == "Cabinet du Lac"
    assert "Lausanne" in config.practice.address
    assert config.practice.timezone_name == "Europe/Zurich"
    assert config.practice.languages == ("fr", "de", "it", "en")
    assert config.practice.default_language == "fr"
    assert list(config.therapists) == ["anne", "marc"]
    assert list(config.services) == ["seance-75", "seance-75-flex", "suivi-45"]


def test_the_demo_hours_are_anne_and_marcs() -> None:
    config = load_config(DEMO)
    anne, marc = config.therapists["anne"].weekly_hours, config.therapists["marc"].weekly_hours
    full = hours("08:00-12:00", "14:00-18:00")
    assert dict(anne) == {0: full, 1: full, 2: hours("14:00-18:00"), 3: full, 4: full}
    assert dict(marc) == {day: hours("09:00-12:30", "13:30-17:00") for day in range(5)}


def test_the_demo_services_are_as_documented() -> None:
    services = load_config(DEMO).services
    summary = {sid: (s.duration, s.availability, s.therapists) for sid, s in services.items()}
    assert summary == {
        "seance-75": (timedelta(minutes=75), "fixed", ("anne", "marc")),
        "seance-75-flex": (timedelta(minutes=75), "flexible", ("anne",)),
        "suivi-45": (timedelta(minutes=45), "flexible", ("anne", "marc")),
    }
    assert services["seance-75"].name("de") == "Sitzung (75 Min.)"
    assert services["seance-75"].slots.fixed_last_slot == "may_overrun"
    assert services["seance-75"].slots.fixed_anchor == "period"


def test_relative_paths_are_relative_to_the_files_folder(tmp_path: Path) -> None:
    folder = tmp_path / "etc" / "practice"
    folder.mkdir(parents=True)
    (folder / "practice.toml").write_text(DEMO.read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(folder / "practice.toml")
    assert config.server.data_dir == (tmp_path / "etc" / "var").resolve()
    assert config.notifications.outbox_dir == (tmp_path / "etc" / "var" / "outbox").resolve()


def test_a_service_can_override_the_slot_settings(tmp_path: Path) -> None:
    text = DEMO.read_text(encoding="utf-8").replace(
        'availability = "fixed"\n', 'availability = "fixed"\nfixed_last_slot = "must_fit"\n', 1
    )
    path = tmp_path / "practice.toml"
    path.write_text(text, encoding="utf-8")
    services = load_config(path).services
    assert services["seance-75"].slots.fixed_last_slot == "must_fit"
    assert services["suivi-45"].slots.fixed_last_slot == "may_overrun"


def edited(tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the demo file with one edit (the edit must apply)."""
    text = DEMO.read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "practice.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


BAD_FILES = [
    pytest.param(
        'duration_minutes = 75\navailability = "fixed"',
        'duraton_minutes = 75\navailability = "fixed"',
        "services.seance-75.duraton_minutes",
        r'unknown key; did you mean "duration_minutes"\?',
        id="misspelt key",
    ),
    pytest.param(
        "duration_minutes = 45",
        'duration_minutes = "fifty"',
        "services.suivi-45.duration_minutes",
        r'"fifty" is not a whole number; expected minutes',
        id="text for a number",
    ),
    pytest.param(
        'timezone = "Europe/Zurich"',
        'timezone = "Europe/Lausane"',
        "practice.timezone",
        r'"Europe/Lausane" is not a known time zone; expected an IANA name',
        id="unknown time zone",
    ),
    pytest.param(
        'wednesday = ["14:00-18:00"]',
        'wednesday = ["18:00-14:00"]',
        "therapists.anne.hours.wednesday[0]",
        r'"18:00-14:00" ends before it starts',
        id="period ending before it starts",
    ),
    pytest.param(
        'therapists = ["anne", "marc"]\n\n[services.seance-75-flex]',
        'therapists = ["anne", "paul"]\n\n[services.seance-75-flex]',
        "services.seance-75.therapists",
        r'"paul" is not a therapist in this file; expected some of: anne, marc',
        id="unknown therapist",
    ),
]


@pytest.mark.parametrize(("old", "new", "key", "problem"), BAD_FILES)
def test_a_bad_file_names_the_file_the_key_and_the_problem(
    tmp_path: Path, old: str, new: str, key: str, problem: str
) -> None:
    path = edited(tmp_path, old, new)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key}: ")
    assert re.search(problem, message), message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("[practice]", "[practise]", r"practise: unknown key; did you mean \"practice\"\?"),
        (
            'privacy = "initials"',
            'privacy = "everything"',
            r"privacy: \"everything\" is not allowed",
        ),
        ("reminder_lead_hours = 24", "reminder_lead_hours = 36", "expected 24, 48 or 72"),
        (
            'secret_key_env = "CALDAV_BRIDGE_SECRET_KEY"',
            'secret_key_env = "hunter2!"',
            "not an environment variable name",
        ),
        (
            'monday = ["09:00-12:30", "13:30-17:00"]',
            'monday = ["09:00-12:30", "12:00-17:00"]',
            "overlaps or precedes",
        ),
        (
            'monday = ["08:00-12:00", "14:00-18:00"]',
            'monday = ["8-12"]',
            r'"8-12" is not a period; expected "HH:MM-HH:MM"',
        ),
        ("to = 2027-01-03", "to = 2026-12-01", "is before 2026-12-24"),
        ('booking_rate_limit = "10/minute"', 'booking_rate_limit = "ten"', r"is not a rate"),
        (
            'languages = ["fr", "de", "it", "en"]',
            'languages = ["fr", "es"]',
            r'"es" is not supported',
        ),
    ],
)
def test_other_mistakes_are_explained(tmp_path: Path, old: str, new: str, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        load_config(edited(tmp_path, old, new))


def test_a_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = edited(tmp_path, 'name = "Cabinet du Lac"', 'name = "Cabinet du Lac')
    with pytest.raises(ConfigError, match=r"not valid TOML: .*line \d+"):
        load_config(path)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.toml: file not found"):
        load_config(tmp_path / "nowhere.toml")

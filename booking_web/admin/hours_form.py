"""The hours form of one therapist: weekly periods (a gap is a break) and date exceptions.

Parsing and checking happen here, with a message per field in the admin's language; the
result is turned into an edit of ``[therapists.<login>.hours]`` and
``[[therapists.<login>.exceptions]]`` that touches only what changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table
from werkzeug.datastructures import MultiDict

from booking_web.i18n import _
from caldav_bridge.config_writer import remove_key, set_value

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PERIOD = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$")
MAX_EXCEPTIONS = 100
MAX_NOTE = 100


@dataclass
class ExceptionRow:
    """One date exception as the form and the file hold it (``hours`` empty: closed)."""

    first: date
    last: date
    hours: list[str]
    note: str

    def as_table(self) -> Table:
        table = tomlkit.table()
        if self.first == self.last:
            table["date"] = self.first
        else:
            table["from"] = self.first
            table["to"] = self.last
        if self.hours:
            table["hours"] = self.hours
        if self.note:
            table["note"] = self.note
        return table


@dataclass
class HoursForm:
    weekly: dict[str, list[str]]
    exceptions: list[ExceptionRow]
    texts: dict[str, str] = field(default_factory=dict)  # what was typed, to show it again
    rows: int = 0  # exception rows to show again (the blank one for a new exception comes on top)
    errors: dict[str, str] = field(default_factory=dict)


def from_file(therapist: dict[str, Any]) -> HoursForm:
    hours = therapist.get("hours", {})
    weekly = {day: [str(p) for p in hours.get(day, [])] for day in WEEKDAYS}
    exceptions = []
    for raw in therapist.get("exceptions", []):
        first = raw.get("date") or raw.get("from")
        last = raw.get("date") or raw.get("to") or first
        exceptions.append(
            ExceptionRow(first, last, [str(p) for p in raw.get("hours", [])], raw.get("note", ""))
        )
    texts = {day: ", ".join(periods) for day, periods in weekly.items()}
    for i, e in enumerate(exceptions):
        texts |= {
            f"exc-{i}-from": e.first.isoformat(),
            f"exc-{i}-to": e.last.isoformat() if e.last != e.first else "",
            f"exc-{i}-hours": ", ".join(e.hours),
            f"exc-{i}-note": e.note,
        }
    return HoursForm(weekly, exceptions, texts, rows=len(exceptions))


def parse(form: MultiDict[str, str]) -> HoursForm:
    """The submitted hours, checked; ``errors`` names each wrong field."""
    result = HoursForm({}, [], {name: value.strip() for name, value in form.items()})
    for day in WEEKDAYS:
        periods = _periods(result.texts.get(day, ""))
        if periods is None:
            result.errors[day] = _periods_text()
        result.weekly[day] = periods or []
    rows = min(_count(form.get("exceptions", "")), MAX_EXCEPTIONS)
    for i in range(rows + 1):  # the last row is the blank one for a new exception
        if any(result.texts.get(f"exc-{i}-{part}") for part in ("from", "to", "hours", "note")):
            result.rows = i + 1
        if form.get(f"exc-{i}-remove"):
            continue
        found = _exception(result, f"exc-{i}-")
        if found is not None:
            result.exceptions.append(found)
    return result


def _exception(result: HoursForm, prefix: str) -> ExceptionRow | None:
    texts = {part: result.texts.get(prefix + part, "") for part in ("from", "to", "hours", "note")}
    if not any(texts.values()):
        return None
    first, last = _day(texts["from"]), _day(texts["to"] or texts["from"])
    if first is None:
        result.errors[prefix + "from"] = _("Please enter the first day, e.g. 2026-12-24.")
    if last is None or (first is not None and last < first):
        result.errors[prefix + "to"] = _("Please enter a last day on or after the first day.")
    periods = _periods(texts["hours"])
    if periods is None:
        result.errors[prefix + "hours"] = _periods_text()
    if len(texts["note"]) > MAX_NOTE or not texts["note"].isprintable():
        result.errors[prefix + "note"] = _("Please use at most %(num)d characters on one line.") % {
            "num": MAX_NOTE
        }
    if first is None or last is None or periods is None:
        return None
    return ExceptionRow(first, last, periods, texts["note"])


def _periods(text: str) -> list[str] | None:
    """``"08:00-12:00, 14:00-18:00"`` as a list, or None if it is not periods in order."""
    parts = [part.replace(" ", "") for part in re.split(r"[,;]", text) if part.strip()]
    previous_end = ""
    for part in parts:
        if not PERIOD.match(part):
            return None
        start, end = part.split("-")
        if end <= start or start < previous_end:
            return None
        previous_end = end
    return parts


def _periods_text() -> str:
    return _(
        "Please enter periods such as 08:00-12:00, 14:00-18:00, in order and not overlapping "
        "(empty: closed)."
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _count(text: str) -> int:
    return int(text) if text.isdigit() else 0


def changes(before: HoursForm, after: HoursForm) -> list[str]:
    """The keys the edit changes: weekdays, and ``exceptions`` when any of them changed."""
    days = [day for day in WEEKDAYS if before.weekly[day] != after.weekly[day]]
    return days + (["exceptions"] if before.exceptions != after.exceptions else [])


def apply(document: tomlkit.TOMLDocument, login: str, form: HoursForm, keys: list[str]) -> None:
    """Write the changed ``keys`` of ``form`` into ``login``'s tables of the document."""
    base = ("therapists", login)
    for day in (key for key in keys if key in WEEKDAYS):
        if form.weekly[day]:
            set_value(document, (*base, "hours", day), form.weekly[day])
        else:
            remove_key(document, (*base, "hours", day))
    if "exceptions" not in keys:
        return
    therapist = document["therapists"][login]
    existing = therapist.get("exceptions")
    if not form.exceptions:
        remove_key(document, (*base, "exceptions"))
        return
    if not isinstance(existing, AoT):
        set_value(document, (*base, "exceptions"), tomlkit.aot())
        existing = therapist["exceptions"]
    _update_rows(existing, form.exceptions)


def _update_rows(rows: AoT, exceptions: list[ExceptionRow]) -> None:
    """Make ``rows`` hold ``exceptions``, touching only the tables that differ (their
    comments and spacing stay)."""
    while len(rows) > len(exceptions):
        del rows[len(rows) - 1]
    for i, exception in enumerate(exceptions):
        wanted = exception.as_table()
        if i >= len(rows):
            wanted.add(tomlkit.nl())
            rows.append(wanted)
        elif rows[i].unwrap() != wanted.unwrap():
            table = rows[i]
            for key in list(table.keys()):
                del table[key]
            for key, value in wanted.items():
                table[key] = value

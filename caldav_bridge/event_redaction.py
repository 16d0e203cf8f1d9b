"""Taking a patient out of an appointment's event: text in, text out. Pure.

What the bridge or a calendar app may have put about the patient into an event: the SUMMARY
("Séance (75 min) – Zoë Müller", or initials), a DESCRIPTION or notes, ATTENDEE, CONTACT,
COMMENT, an alarm's text (calendar apps copy the summary into it), or any other property
naming them (a CN parameter, a vendor's X- property). The redacted event gets a neutral
summary and loses every such property; it keeps what the calendar needs and what the watcher
compares (UID, times, recurrence, STATUS, TRANSP, and LOCATION unless it names the patient),
so a redaction is never a move or a cancellation for `caldav_bridge.notify.changes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import icalendar
import phonenumbers
from icalendar.cal.component import Component

from caldav_bridge.ical import CALENDAR_COMPONENTS
from caldav_bridge.patient_records import fold
from caldav_bridge.store import Patient

# Properties about people or free text: removed from every event of the patient.
REMOVED = frozenset({"DESCRIPTION", "ATTENDEE", "CONTACT", "COMMENT", "ATTACH", "X-ALT-DESC"})
# Structure and times: never personal, never touched (a changed UID would break every sync).
STRUCTURAL = frozenset(
    {
        "PRODID", "VERSION", "CALSCALE", "METHOD", "UID", "DTSTAMP", "DTSTART", "DTEND",
        "DURATION", "DUE", "RRULE", "RDATE", "EXDATE", "RECURRENCE-ID", "SEQUENCE", "STATUS",
        "TRANSP", "CLASS", "CREATED", "LAST-MODIFIED", "PRIORITY", "TRIGGER", "ACTION",
        "REPEAT", "TZID", "TZOFFSETFROM", "TZOFFSETTO", "TZNAME", "SUMMARY",
    }
)  # fmt: skip
MIN_NAME = 2  # name parts this short ("Li") are searched only within the full name


@dataclass(frozen=True)
class Identifiers:
    """How the patient may be named in a text: names (folded), email, phone digits."""

    names: tuple[str, ...]
    email: str | None
    phone_digits: tuple[str, ...]
    raw: tuple[str, ...]  # as typed, for text that is not iCalendar

    @classmethod
    def of(cls, patient: Patient) -> Identifiers:
        first, last = fold(patient.first_name).strip(), fold(patient.last_name).strip()
        parts = {p for p in (first, last, f"{first} {last}", f"{last} {first}") if p.strip()}
        names = tuple(sorted(p for p in parts if len(p) > MIN_NAME))
        raw = (patient.first_name, patient.last_name, patient.email or "", patient.phone or "")
        return cls(
            names=names,
            email=patient.email.lower() if patient.email else None,
            phone_digits=_phone_digits(patient.phone),
            raw=tuple(r for r in raw if len(r) > MIN_NAME),
        )

    def found_in(self, text: str) -> bool:
        folded = fold(text)
        if any(re.search(rf"\b{re.escape(name)}\b", folded) for name in self.names):
            return True
        if self.email and self.email in text.lower():
            return True
        digits = re.sub(r"\D", "", text)
        return any(d in digits for d in self.phone_digits)


def redacted_event(
    text: str, summary: str, who: Identifiers, stamp: datetime | None = None
) -> str | None:
    """``text`` without the patient, its summary ``summary`` (DTSTAMP and LAST-MODIFIED set
    to ``stamp`` if given); None when there was nothing to take out."""
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except (ValueError, IndexError, KeyError):
        scrubbed = _scrubbed(text, who)
        return scrubbed if scrubbed != text else None
    before = calendar.to_ical()
    _drop_naming(calendar, who)
    for item in calendar.subcomponents:
        if item.name in CALENDAR_COMPONENTS:
            _redact_item(item, summary, who)
    if calendar.to_ical() == before:
        return None
    if stamp is not None:
        for item in calendar.subcomponents:
            if item.name in CALENDAR_COMPONENTS:
                _stamp(item, stamp)
    return bytes(calendar.to_ical()).decode()


def _redact_item(item: Component, summary: str, who: Identifiers) -> None:
    for name in REMOVED:
        item.pop(name, None)
    _set_text(item, "SUMMARY", summary)
    _drop_naming(item, who)
    for sub in list(item.subcomponents):
        if sub.name == "VALARM" and str(sub.get("ACTION", "")).upper() == "EMAIL":
            item.subcomponents.remove(sub)  # mails an attendee: nothing left to send it to
            continue
        if sub.name == "VALARM":
            for name in ("DESCRIPTION", "SUMMARY"):
                if name in sub:
                    _set_text(sub, name, summary)
        _drop_naming(sub, who)


def _drop_naming(component: Component, who: Identifiers) -> None:
    """Remove each non-structural property whose value or parameters name the patient."""
    for name in list(component.keys()):
        if name.upper() in STRUCTURAL:
            continue
        if any(who.found_in(text) for text in _texts(component[name])):
            component.pop(name)


def _texts(value: Any) -> Iterable[str]:
    for one in value if isinstance(value, list) else [value]:
        yield _text_of(one)
        params = getattr(one, "params", {})
        yield from (str(v) for v in params.values())


def _text_of(value: Any) -> str:
    try:
        return bytes(value.to_ical()).decode() if hasattr(value, "to_ical") else str(value)
    except (ValueError, TypeError, AttributeError):
        return str(value)


def _set_text(component: Component, name: str, text: str) -> None:
    component.pop(name, None)
    component.add(name, text)


def _stamp(item: Component, stamp: datetime) -> None:
    stamp = stamp.astimezone(UTC)
    item.pop("DTSTAMP", None)
    item.add("DTSTAMP", stamp)
    if "LAST-MODIFIED" in item:
        item.pop("LAST-MODIFIED")
        item.add("LAST-MODIFIED", stamp)


def _scrubbed(text: str, who: Identifiers) -> str:
    """Text that is not iCalendar (never stored, but a change log is for ever): each way of
    naming the patient replaced by "…"."""
    for raw in who.raw:
        text = re.sub(re.escape(raw), "…", text, flags=re.IGNORECASE)
    return text


def _phone_digits(phone: str | None) -> tuple[str, ...]:
    if not phone:
        return ()
    try:
        national = str(phonenumbers.parse(phone, None).national_number)
    except phonenumbers.NumberParseException:
        national = re.sub(r"\D", "", phone)
    return (national,) if len(national) >= 6 else ()

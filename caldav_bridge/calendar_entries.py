"""A therapist's calendar entries in a window: what the agenda and the overlap warnings show.

Every calendar of the therapist is read in one indexed query (`items_between`), recurring
events are expanded over the window only (`busy.event_occurrences`), and the events that are
the therapist's appointments are labelled "<service> – <patient>" from the appointments
table. Titles of overridden occurrences of a series come from their override.
`therapist_agenda` lays them out in days for the therapist space.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

import icalendar
from icalendar.cal.component import Component

from caldav_bridge.agenda import APPOINTMENT, EVENT, AgendaDay, Entry, agenda_days, day_bounds
from caldav_bridge.busy import EventOccurrence, event_occurrences
from caldav_bridge.config import Config
from caldav_bridge.ical import RECURRENCE_PROPERTIES, load_calendar, time_of, utc_time, values_of
from caldav_bridge.opening_hours import open_periods
from caldav_bridge.store import Collection, Store, Tx
from caldav_bridge.store.appointments import CANCELLED
from caldav_bridge.store.therapist_views import AgendaAppointment

DISPLAY_NAME = "D:displayname"


@dataclass(frozen=True)
class _Source:
    calendar: icalendar.Calendar
    collection: str  # display name
    # By RECURRENCE-ID in UTC (None: the master): each component's SUMMARY and STATUS.
    titles: dict[datetime | None, str]
    statuses: dict[datetime | None, str]
    recurring: bool

    def of(self, table: dict[datetime | None, str], recurrence_id: datetime | None) -> str:
        """An occurrence's value: from its override if it has one, else from the master."""
        return table.get(recurrence_id, table.get(None, ""))


def calendar_entries(
    tx: Tx, config: Config, login: str, start: datetime, end: datetime, language: str
) -> list[Entry]:
    """Every occurrence in ``login``'s calendars that meets ``[start, end)``, sorted by start.

    Appointments are titled with the service's name in ``language`` and the patient's full
    name: this is the therapist's own view, not a synced calendar.
    """
    tz = config.practice.tz
    calendars = {c.path: c for c in tx.child_collections(login) if c.tag == "VCALENDAR"}
    items = tx.items_between(calendars, start, end)
    sources: dict[str, _Source] = {}
    for item in items:
        if item.component != "VEVENT":
            continue
        calendar = load_calendar(item.text)
        name = _calendar_name(calendars[item.collection_path])
        sources[item.uid] = _source(calendar, name, tz)
    occurrences = event_occurrences((s.calendar for s in sources.values()), start, end, tz)
    booked = tx.agenda_appointments(login, sources)
    entries = [
        _entry(o, sources[o.uid], booked.get(o.uid), config, language)
        for o in occurrences
        if o.uid in sources
    ]
    return sorted(entries, key=lambda e: (e.start.astimezone(UTC), e.end.astimezone(UTC)))


def appointment_title(config: Config, service_id: str, patient: str, language: str) -> str:
    service = config.services.get(service_id)
    name = service.name(language) if service is not None else service_id
    return f"{name} – {patient}" if patient else name


def _source(calendar: icalendar.Calendar, collection: str, tz: tzinfo) -> _Source:
    titles: dict[datetime | None, str] = {}
    statuses: dict[datetime | None, str] = {}
    recurring = False
    for event in calendar.walk("VEVENT"):
        recurrence_id = time_of(event, "RECURRENCE-ID")
        # In UTC, read as `event_occurrences` reads it (floating times in the practice's zone).
        key = utc_time(recurrence_id, tz) if recurrence_id is not None else None
        titles[key] = _first_text(event, "SUMMARY")
        statuses[key] = _first_text(event, "STATUS").upper()
        recurring |= recurrence_id is not None or any(p in event for p in RECURRENCE_PROPERTIES)
    return _Source(calendar, collection, titles, statuses, recurring)


def _entry(
    occurrence: EventOccurrence,
    source: _Source,
    appointment: AgendaAppointment | None,
    config: Config,
    language: str,
) -> Entry:
    title = source.of(source.titles, occurrence.recurrence_id)
    cancelled = source.of(source.statuses, occurrence.recurrence_id) == "CANCELLED"
    if appointment is not None:
        patient = " ".join(part for part in (appointment.first_name, appointment.last_name) if part)
        title = appointment_title(config, appointment.service, patient, language)
        cancelled = cancelled or appointment.status == CANCELLED
    return Entry(
        uid=occurrence.uid,
        start=occurrence.interval.start,
        end=occurrence.interval.end,
        all_day=occurrence.all_day,
        title=title,
        kind=APPOINTMENT if appointment is not None else EVENT,
        blocks_time=occurrence.blocks_time,
        cancelled=cancelled,
        calendar=source.collection,
        appointment=appointment.uid if appointment is not None else None,
        recurring=source.recurring,
    )


def _first_text(component: Component, name: str) -> str:
    """A text property's value ("" when absent); the first one if a client repeated it."""
    value = values_of(component, name)
    return str(value[0]).strip() if value else ""


def _calendar_name(collection: Collection) -> str:
    return collection.props.get(DISPLAY_NAME) or collection.path.rsplit("/", 1)[-1]


def therapist_agenda(
    store: Store,
    config: Config,
    login: str,
    first: date,
    days: int,
    now: datetime,
    language: str,
) -> list[AgendaDay]:
    """``days`` days of ``login``'s agenda from ``first``, with their open periods; audited
    (it shows patients' names)."""
    tz = config.practice.tz
    last = first + timedelta(days=days - 1)
    start, end = day_bounds(first, tz)[0], day_bounds(last, tz)[1]
    with store.write() as tx:
        entries = calendar_entries(tx, config, login, start, end, language)
        tx.audit(login, "agenda.read", f"therapist:{login}", f"{first.isoformat()}+{days}")
    therapist = config.therapists.get(login)
    periods = (
        open_periods(therapist.weekly_hours, therapist.exceptions, tz, first, last)
        if therapist is not None
        else []
    )
    return agenda_days(entries, first, days, tz, now.astimezone(tz).date(), periods)

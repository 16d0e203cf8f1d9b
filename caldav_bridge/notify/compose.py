"""Which messages a change to an appointment or a due reminder needs: pure decisions.

Given the facts (the change, the appointment, the patient, the configuration, the time), the
functions here return the messages to enqueue, rendered in each recipient's language. They
read no clock, no database and no environment; `intake` and `reminders` feed them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from caldav_bridge.calendar_file import PublishedEvent, calendar_file
from caldav_bridge.config import Config, TherapistConfig
from caldav_bridge.manage_links import manage_url
from caldav_bridge.notify.changes import AppointmentChange, EventFacts
from caldav_bridge.notify.formatting import moment, short_date, when
from caldav_bridge.notify.messages import EMAIL, SMS, Channel, Email, Outgoing, Role, Sms
from caldav_bridge.notify.reminders import reminder_key, sms_allowed
from caldav_bridge.notify.templates import Templates
from caldav_bridge.store import Appointment, Patient

ICS_NAMES = {"fr": "rendez-vous.ics", "de": "termin.ics", "it": "appuntamento.ics"}
PATIENT_ACTOR = "patient"


@dataclass(frozen=True)
class Composer:
    config: Config
    templates: Templates
    secret_key: str

    def for_change(
        self,
        seq: int,
        change: AppointmentChange,
        appointment: Appointment,
        patient: Patient | None,
        actor: str,
        now: datetime,
    ) -> list[Outgoing]:
        """The notices for change ``seq``; none for an appointment already past."""
        shown = change.before if change.kind == "cancelled" else change.after
        assert shown is not None
        latest = max(f.start for f in (change.before, change.after) if f is not None)
        if latest <= now:
            return []
        notice = _Notice(self, change, shown, appointment, patient, actor, now)
        found: list[Outgoing] = []
        for channel, role, recipient in self._recipients(appointment, patient):
            template = f"sms_{change.kind}" if channel == SMS else f"{change.kind}_{role}"
            key = f"change:{seq}:{channel}:{template}"
            found.append(notice.message(key, channel, role, recipient, template))
        return found

    def reminders(
        self,
        channels: list[Channel],
        appointment: Appointment,
        patient: Patient,
        place: str,
        now: datetime,
    ) -> list[Outgoing]:
        """The reminders of ``appointment`` on ``channels`` (see `reminders.reminder_channels`)."""
        facts = EventFacts(appointment.start_at, appointment.end_at, place, cancelled=False)
        change = AppointmentChange("booked", None, facts)
        notice = _Notice(self, change, facts, appointment, patient, PATIENT_ACTOR, now)
        found = []
        for channel in channels:
            recipient = patient.phone if channel == SMS else patient.email
            assert recipient
            template = "sms_reminder" if channel == SMS else "reminder_patient"
            key = reminder_key(appointment, channel)
            message = notice.message(key, channel, "patient", recipient, template, with_ics=False)
            found.append(replace(message, start_at=appointment.start_at))
        return found

    def _recipients(
        self, appointment: Appointment, patient: Patient | None
    ) -> list[tuple[Channel, Role, str]]:
        found: list[tuple[Channel, Role, str]] = []
        if patient is not None and patient.email:
            found.append((EMAIL, "patient", patient.email))
        therapist = self.config.therapists.get(appointment.therapist)
        if therapist is not None and therapist.email:
            found.append((EMAIL, "therapist", therapist.email))
        if (
            self.config.notifications.sms_notices
            and patient is not None
            and sms_allowed(appointment, patient)
        ):
            assert patient.phone
            found.append((SMS, "patient", patient.phone))
        return found


@dataclass(frozen=True)
class _Notice:
    """One change (or reminder) rendered for each recipient in turn."""

    composer: Composer
    change: AppointmentChange
    shown: EventFacts
    appointment: Appointment
    patient: Patient | None
    actor: str
    now: datetime

    def message(
        self,
        key: str,
        channel: Channel,
        role: Role,
        recipient: str,
        template: str,
        *,
        with_ics: bool = True,
    ) -> Outgoing:
        language = self._language(role)
        templates = self.composer.templates
        content: Email | Sms
        if channel == SMS:
            content = Sms(templates.sms(language, template, self._sms_context(language)))
        else:
            text = templates.email(language, template, self._email_context(language, role))
            ics = self._ics(role, language) if with_ics else None
            name = ICS_NAMES.get(language, "appointment.ics")
            content = Email(text.subject, text.text, text.html, ics, name)
        return Outgoing(
            key, channel, recipient, template, role, language, self.appointment.uid, content
        )

    @property
    def _config(self) -> Config:
        return self.composer.config

    @property
    def _therapist(self) -> TherapistConfig | None:
        return self._config.therapists.get(self.appointment.therapist)

    def _language(self, role: Role) -> str:
        if role == "therapist" and self._therapist is not None:
            return self._therapist.language
        if role == "patient" and self.patient is not None:
            return self.patient.language
        return self._config.practice.default_language

    def _place(self, facts: EventFacts) -> str:
        return facts.location or self._config.practice.address

    def _service(self, language: str) -> str:
        service = self._config.services.get(self.appointment.service)
        return service.name(language) if service else self.appointment.service

    def _links(self) -> dict[str, str]:
        public = self._config.server.public_url.rstrip("/")
        link = manage_url(
            public, self.composer.secret_key, self.appointment.uid, self.appointment.version
        )
        return {"manage_url": link, "booking_url": f"{public}/"}

    def _by(self) -> dict[str, str]:
        if self.actor == PATIENT_ACTOR:
            return {"by_role": "patient", "by_name": self._patient()["name"]}
        therapist = self._config.therapists.get(self.actor)
        if therapist is not None:
            return {"by_role": "therapist", "by_name": therapist.name}
        return {"by_role": "practice", "by_name": self._config.practice.name}

    def _patient(self) -> dict[str, str]:
        p = self.patient
        if p is None:
            return {"first_name": "", "last_name": "", "name": "", "email": "", "phone": ""}
        first, last = _line(p.first_name), _line(p.last_name)
        return {
            "first_name": first,
            "last_name": last,
            "name": f"{first} {last}",
            "email": p.email or "",
            "phone": p.phone or "",
        }

    def _email_context(self, language: str, role: Role) -> dict[str, Any]:
        config, tz = self._config, self._config.practice.tz
        before = self.change.before
        therapist = self._therapist
        context: dict[str, Any] = {
            "practice": config.practice,
            "patient": self._patient(),
            "therapist": {
                "name": therapist.name if therapist else self.appointment.therapist,
                "email": therapist.email if therapist else "",
                "phone": therapist.phone if therapist else "",
            },
            "service": self._service(language),
            "when": when(self.shown.start, self.shown.end, language, tz),
            "place": self._place(self.shown),
            "before": when(before.start, before.end, language, tz) if before else None,
            "before_place": self._place(before) if before else "",
            "moved": self.change.moved,
            "place_changed": self.change.place_changed,
            "cutoff": moment(self.shown.start - config.booking.patient_change_cutoff, language, tz),
            "note": self.appointment.message if role == "therapist" else "",
            **self._by(),
            **self._links(),
        }
        return context

    def _sms_context(self, language: str) -> dict[str, Any]:
        """Deliberately small: no service, no therapist, no place (DESIGN.md §8)."""
        tz = self._config.practice.tz
        return {
            "first_name": self._patient()["first_name"],
            "date": short_date(self.shown.start, language, tz),
            "time": when(self.shown.start, self.shown.end, language, tz).time,
            "practice": self._config.practice.name,
            "practice_phone": self._config.practice.phone,
            **self._links(),
        }

    def _ics(self, role: Role, language: str) -> str:
        therapist = self._therapist
        other = (
            self._patient()["name"]
            if role == "therapist"
            else (therapist.name if therapist else "")
        )
        summary = " – ".join(part for part in (self._service(language), other) if part)
        event = PublishedEvent(
            uid=self.appointment.uid,
            version=self.appointment.version,
            start=self.shown.start,
            end=self.shown.end,
            summary=summary,
            location=self._place(self.shown),
            description=self._links()["manage_url"] if role == "patient" else "",
            cancelled=self.change.kind == "cancelled",
            reader=role,
        )
        return calendar_file(event, self.now, self._config.practice.tz).decode()


def _line(text: str) -> str:
    """One line: a name can never break a subject line or a header."""
    return " ".join(text.split())

"""Every message rendered once with sample data, to find a broken template at start-up, and to
show the admin what an edited template will look like.

A hand-edited template with a typo or an unknown name (an SMS template asking for the
service, say) stops `serve`, `watch` and `notify` with one line naming the file, instead of
failing on a patient's notification later. The admin panel renders a draft the same way
before saving it (`caldav_bridge.notify.template_check`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from caldav_bridge.config import LANGUAGES, Config, TherapistConfig
from caldav_bridge.notify.changes import AppointmentChange, EventFacts
from caldav_bridge.notify.compose import Composer
from caldav_bridge.notify.messages import EMAIL, SMS, Outgoing
from caldav_bridge.notify.templates import Templates
from caldav_bridge.store import Appointment, Patient

SAMPLE_START = datetime(2030, 3, 4, 13, 15, tzinfo=UTC)
SAMPLE_KEY = "sample-key"
SAMPLE_THERAPIST = TherapistConfig(
    login="therapist",
    name="Anne Exemple",
    email="t@example.invalid",
    phone="",
    language="fr",
    weekly_hours=MappingProxyType({}),
    exceptions=(),
    calendar_name="",
    color="#2A7AB0",
    active=True,
)


def check_templates(config: Config, folder: Path) -> None:
    """Raise `ConfigError` naming the first template in ``folder`` that cannot render."""
    if not folder.is_dir() or not config.therapists:
        return
    templates = Templates(folder, strict=True)
    for language in LANGUAGES:
        sample_messages(config, templates, language)


def sample_messages(config: Config, templates: Templates, language: str) -> list[Outgoing]:
    """Every message in ``language`` (booked by the patient, changed by the therapist,
    cancelled by the practice, both reminders), for a sample patient and appointment with the
    practice's settings; every channel on."""
    login, therapist = next(iter(config.therapists.items()), ("therapist", SAMPLE_THERAPIST))
    on = replace(config.notifications, sms_notices=True, sms_reminders=True, email_reminders=True)
    sample = replace(
        config,
        notifications=on,
        therapists={login: replace(therapist, language=language, email="t@example.invalid")},
    )
    return _render_all(Composer(sample, templates, SAMPLE_KEY), login, language)


def _render_all(composer: Composer, login: str, language: str) -> list[Outgoing]:
    service = next(iter(composer.config.services), "service")
    appointment = Appointment(
        uid="sample",
        therapist=login,
        collection_path=f"{login}/appointments",
        href="sample.ics",
        patient_id=1,
        service=service,
        start_at=SAMPLE_START,
        end_at=SAMPLE_START + timedelta(minutes=75),
        status="confirmed",
        created_by="patient",
        sms_enabled=True,
        version=2,
        message="Sample message",
    )
    patient = Patient(
        id=1,
        first_name="Zoë",
        last_name="Sample",
        email="p@example.invalid",
        phone="+41790000000",
        language=language,
        sms_enabled=True,
        notes="",
        consent_at=None,
        created_by="patient",
    )
    before = EventFacts(SAMPLE_START - timedelta(days=1), SAMPLE_START, "Elsewhere", False)
    after = EventFacts(appointment.start_at, appointment.end_at, "", False)
    now = SAMPLE_START - timedelta(days=3)
    found: list[Outgoing] = []
    for change, actor in (
        (AppointmentChange("booked", None, after), "patient"),
        (AppointmentChange("changed", before, after), login),
        (AppointmentChange("cancelled", after, None), "admin"),
    ):
        found += composer.for_change(1, change, appointment, patient, actor, now)
    found += composer.reminders([SMS, EMAIL], appointment, patient, "", now)
    return found

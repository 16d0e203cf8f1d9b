"""Every message rendered once with sample data, to find a broken template at start-up.

A hand-edited template with a typo or an unknown name (an SMS template asking for the
service, say) stops `serve`, `watch` and `notify` with one line naming the file, instead of
failing on a patient's notification later.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from caldav_bridge.config import LANGUAGES, Config
from caldav_bridge.notify.changes import AppointmentChange, EventFacts
from caldav_bridge.notify.compose import Composer
from caldav_bridge.notify.messages import EMAIL, SMS
from caldav_bridge.notify.templates import Templates
from caldav_bridge.store import Appointment, Patient

SAMPLE_START = datetime(2030, 3, 4, 13, 15, tzinfo=UTC)


def check_templates(config: Config, folder: Path) -> None:
    """Raise `ConfigError` naming the first template in ``folder`` that cannot render."""
    if not folder.is_dir() or not config.therapists:
        return
    templates = Templates(folder, strict=True)
    login, therapist = next(iter(config.therapists.items()))
    on = replace(config.notifications, sms_notices=True, sms_reminders=True, email_reminders=True)
    for language in LANGUAGES:
        sample = replace(
            config,
            notifications=on,
            therapists={login: replace(therapist, language=language, email="t@example.invalid")},
        )
        _render_all(Composer(sample, templates, "sample-key"), login, language)


def _render_all(composer: Composer, login: str, language: str) -> None:
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
    for change, actor in (
        (AppointmentChange("booked", None, after), "patient"),
        (AppointmentChange("changed", before, after), login),
        (AppointmentChange("cancelled", after, None), "admin"),
    ):
        composer.for_change(1, change, appointment, patient, actor, now)
    composer.reminders([SMS, EMAIL], appointment, patient, "", now)

"""The admin panel (`/admin`): the practice's settings, therapists' logins and the logs.

One blueprint (`blueprint.bp`), its views split by concept: `auth` (log in and out, and the
guard before every other view; only the `admin` login), `practice` (the practice's
settings), `hours` (weekly hours and date exceptions per therapist, with a slot preview),
`therapists` (passwords, deactivation), `therapist_details` (a new therapist; name and
contact details), `services` (the services offered), `patients` and `patient_erasure`
(the practice's patients, their data for them, erasure), `notifications` (reminders,
channels, mail server and Twilio), `provider_checks` (test messages), `message_templates`
(the messages' texts, with a preview), `logs` (audit and delivery logs).
Settings are saved into ``practice.toml`` through `config_edits`. Every page is private (no
caching, no referrer), every POST carries the session's CSRF token, and every change is
audited.
"""

from __future__ import annotations

from flask import Flask

from booking_web.admin import (
    auth,
    hours,
    logs,
    message_templates,
    notifications,
    patient_erasure,
    patients,
    practice,
    provider_checks,
    services,
    therapist_details,
    therapists,
)
from booking_web.admin.blueprint import bp

# Imported for the routes they register on `bp`.
VIEWS = (
    auth,
    hours,
    logs,
    message_templates,
    notifications,
    patient_erasure,
    patients,
    practice,
    provider_checks,
    services,
    therapist_details,
    therapists,
)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

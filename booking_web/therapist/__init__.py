"""The therapist space (`/therapist`): agenda, appointments, patients and the account.

One blueprint (`blueprint.bp`), its views split by concept: `auth` (log in and out, and the
session guard that runs before every other view), `agenda`, `appointment_booking`,
`appointments`, `patients`, `account`. Every page is private (no caching, no referrer) and
every POST carries the session's CSRF token.
"""

from __future__ import annotations

from flask import Flask

from booking_web.therapist import (
    account,
    agenda,
    appointment_booking,
    appointments,
    auth,
    patients,
)
from booking_web.therapist.blueprint import bp, install_authenticator

# Imported for the routes they register on `bp`.
VIEWS = (account, agenda, appointment_booking, appointments, auth, patients)


def init_app(app: Flask) -> None:
    install_authenticator(app)
    app.register_blueprint(bp)

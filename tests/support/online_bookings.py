"""Patients who booked online earlier, through the booking page's JSON API of a running
`caldav-bridge serve` (`GET /api/v1/slots`, `POST /api/v1/bookings`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import requests

ZOE = {
    "first_name": "Zoë",
    "last_name": "Müller",
    "email": "zoe@example.org",
    "phone": "079 123 45 67",
}
HANS = {
    "first_name": "Hans",
    "last_name": "Keller",
    "email": "hans@example.org",
    "phone": "079 765 43 21",
}
PATIENTS = (ZOE, HANS)


def free_starts(
    base_url: str, day: date, service: str = "seance-75", therapist: str = "anne"
) -> list[str]:
    """The starts ``therapist`` offers on ``day`` for ``service``, as the API writes them."""
    query = {"service": service, "therapist": therapist, "from": day.isoformat(), "days": "1"}
    answer = requests.get(f"{base_url}/api/v1/slots", params=query, timeout=30)
    assert answer.status_code == 200, answer.text
    return [str(slot["start"]) for slot in answer.json()]


def book_online(base_url: str, patient: dict[str, str], start: str) -> datetime:
    """``patient`` books anne's ``start`` (consent given); the appointment's start."""
    return datetime.fromisoformat(online_booking(base_url, patient, start)["start"])


def online_booking(base_url: str, patient: dict[str, str], start: str) -> dict[str, Any]:
    """``patient`` books anne's ``start`` (consent given); the API's answer (``start``,
    ``manage_url``, ...)."""
    body: dict[str, Any] = {"service": "seance-75", "therapist": "anne", "start": start}
    body.update(patient=patient, consent=True)
    answer = requests.post(f"{base_url}/api/v1/bookings", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found

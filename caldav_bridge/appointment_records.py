"""A therapist's look at one of their appointments, and its SMS reminder switch; audited.

Another therapist's appointment is "no such appointment" (`NoAppointmentError`). Opening one
shows the patient's contact details, so it is audited like a patient record
(``appointment:<uid>``). Creating, moving and cancelling are recorded in the change log with
the therapist's login as actor (`caldav_bridge.manual_booking`, `caldav_bridge.booking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from caldav_bridge.booking import NoAppointmentError
from caldav_bridge.intervals import as_utc
from caldav_bridge.store import Appointment, Patient, Store


@dataclass(frozen=True)
class AppointmentRecord:
    appointment: Appointment
    patient: Patient | None  # None once the patient's record is deleted


def open_appointment(store: Store, login: str, uid: str) -> AppointmentRecord:
    """``login``'s appointment ``uid`` with its patient, or raise `NoAppointmentError`."""
    with store.write() as tx:
        appointment = tx.therapist_appointment(login, uid)
        if appointment is None:
            raise NoAppointmentError(uid)
        patient = tx.patient(appointment.patient_id) if appointment.patient_id else None
        tx.audit(login, "appointment.read", f"appointment:{uid}")
    return AppointmentRecord(appointment, patient)


def set_sms_reminder(store: Store, login: str, uid: str, enabled: bool) -> Appointment:
    """Turn the SMS reminder of ``login``'s appointment on or off."""
    with store.write(login) as tx:
        appointment = tx.therapist_appointment(login, uid)
        if appointment is None:
            raise NoAppointmentError(uid)
        if appointment.sms_enabled != enabled:
            tx.set_appointment_sms(uid, enabled)
            action = "appointment.sms_on" if enabled else "appointment.sms_off"
            tx.audit(login, action, f"appointment:{uid}")
        found = tx.therapist_appointment(login, uid)
    assert found is not None
    return found


def has_started(appointment: Appointment, now: datetime) -> bool:
    """A started (or past) appointment is a record: it is no longer moved or cancelled."""
    return as_utc(appointment.start_at) <= as_utc(now)

"""A therapist's patient records: find, open, create and edit them, each access audited.

A therapist sees only the patients who have or had an appointment with them or whom they
created (`TherapistViewQueries.visible_patient`); anything else is "no such patient". Every
read or change writes an audit entry in the same transaction (``patient:<id>``, or
``therapist:<login>`` for a list), with no personal data in its details: a search records how
many patients it showed, never what was searched for.

An edit is checked against the version of the record the form was opened on (a digest of its
editable fields): if someone changed it meanwhile, nothing is saved and the caller gets the
current record back.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import phonenumbers

from caldav_bridge.errors import BridgeError
from caldav_bridge.patient_details import INVALID_CHARACTERS, TOO_LONG, check_details, e164
from caldav_bridge.store import Appointment, Patient, Store
from caldav_bridge.store.outbox import OutboxEntry
from caldav_bridge.store.therapist_views import PatientChanges

NOTES_MAX = 5000
LIST_LIMIT = 100
EDITABLE = ("first_name", "last_name", "email", "phone", "language", "sms_enabled", "notes")


class PatientRecordError(BridgeError):
    """Base of the refusals of the patient records."""


class NoPatientError(PatientRecordError):
    """No such patient, or not one this therapist may see."""


class PatientChangedError(PatientRecordError):
    """The record changed since the form was opened; ``current`` is how it is now."""

    def __init__(self, current: Patient) -> None:
        super().__init__(f"patient {current.id} changed")
        self.current = current


@dataclass(frozen=True)
class CheckedPatient:
    changes: PatientChanges | None
    errors: Mapping[str, str]  # field -> code (`caldav_bridge.patient_details` codes)


@dataclass(frozen=True)
class PatientList:
    patients: tuple[Patient, ...]
    total: int  # how many matched; more than shown when above the limit


@dataclass(frozen=True)
class PatientRecord:
    patient: Patient
    appointments: tuple[Appointment, ...]  # with this therapist, newest first
    messages: tuple[OutboxEntry, ...] = ()  # sent to the patient about those, newest first


# -- checking a form (pure) ------------------------------------------------------------------


def check_patient_form(form: Mapping[str, str], languages: Sequence[str]) -> CheckedPatient:
    """Validate the therapist's patient form: names required, email and phone optional."""
    checked = check_details(form, languages, require_email=False, require_phone=False)
    errors = dict(checked.errors)
    notes = _notes(form.get("notes", ""), errors)
    if errors or checked.details is None:
        return CheckedPatient(None, errors)
    changes = PatientChanges(checked.details, form.get("sms_enabled", "") == "on", notes)
    return CheckedPatient(changes, {})


def _notes(raw: str, errors: dict[str, str]) -> str:
    value = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").strip())
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in value):
        errors["notes"] = INVALID_CHARACTERS
    elif len(value) > NOTES_MAX:
        errors["notes"] = TOO_LONG
    return value


def record_version(patient: Patient) -> str:
    """A digest of the editable fields: changes whenever one of them does."""
    text = "\0".join(repr(getattr(patient, name)) for name in EDITABLE)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def changed_fields(patient: Patient, changes: PatientChanges) -> list[str]:
    """The names of the fields ``changes`` would change (for the audit log: no values)."""
    wanted = {f.name: getattr(changes.details, f.name) for f in fields(changes.details)}
    wanted |= {"sms_enabled": changes.sms_enabled, "notes": changes.notes}
    return [name for name in EDITABLE if getattr(patient, name) != wanted[name]]


# -- searching (pure) ------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Zoë Müller" -> "zoe muller"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


_PHONE_LIKE = re.compile(r"^[+\d][\d\s./()-]*$")


def patient_matches(patient: Patient, query: str) -> bool:
    """Every word of ``query`` is in the name or email, or ``query`` is (part of) the phone
    number, typed in international or national form ("079 123 45 67", "+41 79 123")."""
    query = query.strip()
    if not query:
        return True
    if patient.phone and _PHONE_LIKE.match(query):
        digits = re.sub(r"\D", "", query)
        if len(digits) >= 3 and any(digits in form for form in _phone_forms(patient.phone)):
            return True
        if e164(query) == patient.phone:
            return True
    haystack = fold(
        " ".join(p for p in (patient.first_name, patient.last_name, patient.email) if p)
    )
    return all(word in haystack for word in fold(query).split())


def _phone_forms(phone: str) -> tuple[str, ...]:
    """The digits of an E.164 number, internationally and nationally ("41791234567",
    "0791234567")."""
    try:
        number = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return (re.sub(r"\D", "", phone),)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return (re.sub(r"\D", "", phone), re.sub(r"\D", "", national))


# -- use-cases (audited) ---------------------------------------------------------------------


def find_patients(store: Store, login: str, query: str, limit: int = LIST_LIMIT) -> PatientList:
    """``login``'s patients matching ``query`` (all of them for a blank query)."""
    with store.write() as tx:
        matching = [p for p in tx.visible_patients(login) if patient_matches(p, query)]
        action = "patient.search" if query.strip() else "patient.list"
        shown = matching[:limit]
        tx.audit(login, action, f"therapist:{login}", f"shown={len(shown)}")
    return PatientList(tuple(shown), len(matching))


def open_patient(store: Store, login: str, patient_id: int) -> PatientRecord:
    """The patient's record, appointments with ``login`` and the messages sent to the
    patient about those (their delivery log), or raise `NoPatientError`."""
    with store.write() as tx:
        patient = tx.visible_patient(login, patient_id)
        if patient is None:
            raise NoPatientError(str(patient_id))
        appointments = tx.therapist_appointments_of_patient(login, patient_id)
        messages = tx.therapist_messages_to_patient(login, patient_id)
        tx.audit(login, "patient.read", f"patient:{patient_id}", f"messages={len(messages)}")
    return PatientRecord(patient, tuple(appointments), tuple(messages))


def visible_patient(store: Store, login: str, patient_id: int, purpose: str) -> Patient:
    """The patient for a form of ``login`` (audited as ``patient.<purpose>``), or raise."""
    with store.write() as tx:
        patient = tx.visible_patient(login, patient_id)
        if patient is None:
            raise NoPatientError(str(patient_id))
        tx.audit(login, f"patient.{purpose}", f"patient:{patient_id}")
    return patient


def create_patient(store: Store, login: str, changes: PatientChanges) -> Patient:
    """A new patient created by ``login`` (who therefore sees them)."""
    with store.write() as tx:
        created = tx.add_patient(changes.details, login, consent=False)
        tx.update_patient(created.id, changes)
        tx.audit(login, "patient.create", f"patient:{created.id}")
        patient = tx.patient(created.id)
    assert patient is not None
    return patient


def update_patient(
    store: Store, login: str, patient_id: int, version: str, changes: PatientChanges
) -> Patient:
    """Save ``changes`` if the record is still at ``version``; else `PatientChangedError`."""
    with store.write(f"patient-record:{patient_id}") as tx:
        current = tx.visible_patient(login, patient_id)
        if current is None:
            raise NoPatientError(str(patient_id))
        if record_version(current) != version:
            raise PatientChangedError(current)
        changed = changed_fields(current, changes)
        if changed:
            tx.update_patient(patient_id, changes)
            tx.audit(login, "patient.update", f"patient:{patient_id}", ",".join(changed))
        updated = tx.patient(patient_id)
    assert updated is not None
    return updated

"""The store's feed queries (caldav_bridge.store.feeds) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

from caldav_bridge.store import Span, Store, Tx
from caldav_bridge.store.feeds import AppointmentLabel, feed_state_name
from caldav_bridge.store.schema import appointments, patients

AT = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def add_patient(tx: Tx, first: str, last: str) -> int:
    now = tx.now()
    key = tx.conn.execute(
        patients.insert().values(
            first_name=first,
            last_name=last,
            language="fr",
            sms_enabled=True,
            notes="",
            created_by="anne",
            created_at=now,
            updated_at=now,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def add_appointment(tx: Tx, uid: str, patient_id: int | None, therapist: str = "anne") -> None:
    now = tx.now()
    tx.conn.execute(
        appointments.insert().values(
            uid=uid,
            therapist=therapist,
            collection_path=f"{therapist}/appointments",
            href=f"{uid}.ics",
            patient_id=patient_id,
            service="seance-75",
            start_at=AT,
            end_at=AT,
            status="confirmed",
            created_by="patient",
            sms_enabled=True,
            version=1,
            created_at=now,
            updated_at=now,
        )
    )


def test_the_feed_version_starts_at_zero_and_each_revocation_bumps_it(store: Store) -> None:
    with store.read() as tx:
        assert tx.feed_version("anne") == 0
    with store.write("anne") as tx:
        assert tx.bump_feed_version("anne") == 1
        assert tx.bump_feed_version("anne") == 2
    with store.read() as tx:
        assert tx.feed_version("anne") == 2
        assert tx.feed_version("marc") == 0


def test_the_longest_login_still_fits_the_state_table(store: Store) -> None:
    longest = "a" * 63  # the configuration's limit
    assert len(feed_state_name(longest)) <= 64
    assert feed_state_name(longest) != feed_state_name("a" * 62 + "b")
    with store.write(longest) as tx:
        tx.bump_feed_version(longest)
    with store.read() as tx:
        assert tx.feed_version(longest) == 1


def test_appointment_labels_name_the_service_and_patient(store: Store) -> None:
    with store.write("anne") as tx:
        zoe = add_patient(tx, "Zoë", "Müller")
        add_appointment(tx, "with-patient", zoe)
        add_appointment(tx, "patient-deleted", None)
    uids = ["with-patient", "patient-deleted", "own-event", *(f"u{n}" for n in range(1200))]
    with store.read() as tx:
        labels = tx.appointment_labels(uids)
    assert labels == {
        "with-patient": AppointmentLabel("with-patient", "seance-75", "Zoë", "Müller"),
        "patient-deleted": AppointmentLabel("patient-deleted", "seance-75", None, None),
    }


def test_freshness_changes_with_items_appointments_and_patients(store: Store) -> None:
    paths = ["anne/appointments", "anne/private"]
    with store.write("anne") as tx:
        tx.create_collection("anne", "anne", "", {})
        for path in paths:
            tx.create_collection(path, "anne", "VCALENDAR", {})
        zoe = add_patient(tx, "Zoë", "Müller")
        add_appointment(tx, "a", zoe)

    def freshness() -> object:
        with store.read() as tx:
            return tx.feed_freshness("anne", paths)

    seen = [freshness()]
    with store.write("anne") as tx:
        tx.put_item("anne/private", "p.ics", "BEGIN:VCALENDAR", Span("p", "VEVENT", AT, AT), "anne")
    seen.append(freshness())
    with store.write("anne") as tx:
        tx.set_collection_props("anne/appointments", {"D:displayname": "Agenda"})
    seen.append(freshness())
    with store.write("anne") as tx:
        tx.conn.execute(
            patients.update().where(patients.c.id == zoe).values(updated_at=datetime.now(UTC))
        )
    seen.append(freshness())
    with store.write("anne") as tx:
        tx.conn.execute(patients.delete().where(patients.c.id == zoe))  # GDPR erasure
    seen.append(freshness())
    with store.write("marc") as tx:
        add_appointment(tx, "m", None, therapist="marc")
    seen.append(freshness())
    assert len({repr(s) for s in seen[:-1]}) == len(seen) - 1
    assert seen[-1] == seen[-2]  # marc's appointments are not anne's feed


def test_freshness_of_a_therapist_without_anything(store: Store) -> None:
    with store.read() as tx:
        fresh = tx.feed_freshness("anne", [])
    assert fresh.last_seq == 0
    assert fresh.collections_modified == ()
    assert fresh.appointments_modified is None
    assert fresh.appointments_with_patient == 0

"""The admin panel's patients, on SQLite and PostgreSQL: every patient of the practice, found
by name, email or phone, a page at a time; one patient's contact data, appointments with
every therapist and the messages sent to them; every list, search and read audited without
personal data; nobody but the admin reaches these pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from caldav_bridge.store import PatientDetails, Store
from tests.integration.test_admin_support import Space, admin_panel, logged_in_admin
from tests.integration.test_therapist_support import add_patient, audit_actions, logged_in
from tests.support.notify import at
from tests.support.patient_scene import ZOE, patient_scene
from tests.support.web import attribute, element, hidden_fields, location, text_of


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


def names(client: FlaskClient, query: str = "", page: int | None = None) -> list[str]:
    params: dict[str, str | int] = {"q": query} if query else {}
    if page is not None:
        params["page"] = page
    text = client.get("/admin/patients", query_string=params).get_data(as_text=True)
    return re.findall(r'<th scope="row"><a href="/admin/patients/\d+">([^<]+)</a>', text)


def test_the_panel_lists_every_patient_of_the_practice(space: Space, admin: FlaskClient) -> None:
    add_patient(space.store, "anne", "Zoë", "Müller")
    add_patient(space.store, "marc", "Jean", "Dupont", "jean@example.org", None)
    add_patient(space.store, "patient", "Léa", "Favre", "lea@example.org", "+41797654321")
    home = admin.get("/admin/practice")
    assert attribute(home, "nav-patients", "href") == "/admin/patients"
    assert names(admin) == ["Dupont Jean", "Favre Léa", "Müller Zoë"]
    page = admin.get("/admin/patients")
    assert element(page, "patient-count") == "3 patients"
    assert element(page, "patients").count("—") == 1  # Jean has no phone
    assert attribute(page, "nav-patients", "aria-current") == "page"


@pytest.mark.parametrize(
    "query", ["zoe", "MÜLLER", "müller zoe", "zoe@example", "079 123 45 67", "+41 79 123"]
)
def test_search_by_name_email_or_phone(space: Space, admin: FlaskClient, query: str) -> None:
    add_patient(space.store, "anne", "Zoë", "Müller", "zoe@example.org", "+41791234567")
    add_patient(space.store, "marc", "Léa", "Favre", "lea@example.org", "+41797654321")
    assert names(admin, query) == ["Müller Zoë"]


def test_a_search_that_finds_nobody_says_so(space: Space, admin: FlaskClient) -> None:
    add_patient(space.store, "anne")
    page = admin.get("/admin/patients", query_string={"q": "Dupont"})
    assert element(page, "no-patient-found") == "Aucun patient trouvé."
    assert element(page, "patient-count") == "0 patient"


def test_a_long_list_comes_a_page_at_a_time(space: Space, admin: FlaskClient) -> None:
    with space.store.write() as tx:
        for n in range(120):
            details = PatientDetails("Ana", f"Patient{n:03d}", None, None, "fr")
            tx.add_patient(details, "patient", consent=True)
    first = admin.get("/admin/patients")
    assert len(names(admin)) == 50
    assert element(first, "page-of") == "Page 1 sur 3"
    assert element(first, "patient-count") == "120 patients"
    assert attribute(first, "next-page", "href") == "/admin/patients?page=2"
    assert 'id="previous-page"' not in first.get_data(as_text=True)
    last = names(admin, page=3)
    assert (len(last), last[-1]) == (20, "Patient119 Ana")
    assert names(admin, page=99) == last  # past the end: the last page
    assert names(admin, page=0) == names(admin)
    assert element(admin.get("/admin/patients?page=abc"), "page-of") == "Page 1 sur 3"
    found = admin.get("/admin/patients", query_string={"q": "patient0", "page": 2})
    assert element(found, "page-of") == "Page 2 sur 2"  # Patient000 to Patient099
    assert attribute(found, "previous-page", "href") == "/admin/patients?q=patient0&page=1"


def test_the_patient_page_shows_every_therapist_and_the_messages_sent(
    practice_toml: Path, database_url: str
) -> None:
    with patient_scene(practice_toml, database_url) as scene:
        practice = scene.practice
        with_anne = practice.book("2026-12-02 14:00", ZOE).appointment
        practice.book("2026-12-03 09:00", ZOE, therapist="marc")
        practice.run_until_quiet()
        scene.twilio.refuse(ZOE.phone or "", 21211, "The 'To' number is not a valid phone number.")
        practice.run_until_quiet(at("2026-12-01 15:00"))  # her SMS reminder for Anne's is due
        zoe = scene.patient_id(with_anne.uid)
        page = scene.admin().get(f"/admin/patients/{zoe}")
    assert element(page, "patient-name") == "Zoë Quenneville"
    assert element(page, "patient-email") == "zoe.quenneville@example.org"
    assert element(page, "patient-phone") == "+41791112233"
    assert element(page, "appointments") == (
        "Quand Prestation Thérapeute État "
        "jeudi 3 décembre 2026, 09:00 Séance (75 min) Marc Favre confirmé "
        "mercredi 2 décembre 2026, 14:00 Séance (75 min) Anne Rochat confirmé"
    )
    rows = re.findall(r'<tr id="message-\d+" class="state-(\w+)">', page.get_data(as_text=True))
    assert rows == ["failed", "sent", "sent"]  # newest first; none of the therapists' notices
    messages = element(page, "messages")
    assert "+41791112233" in messages  # the admin sees recipients whole
    assert "Le numéro a été refusé : il est peut-être faux ou n’est pas un mobile." in messages
    assert "cabinet-du-lac.example" not in messages
    assert attribute(page, "export-json", "href") == f"/admin/patients/{zoe}/data.json"
    assert attribute(page, "erase-link", "href") == f"/admin/patients/{zoe}/erase"


def test_lists_searches_and_reads_are_audited_without_personal_data(
    space: Space, admin: FlaskClient
) -> None:
    zoe = add_patient(space.store, "anne")
    admin.get("/admin/patients")
    admin.get("/admin/patients", query_string={"q": "Müller"})
    admin.get(f"/admin/patients/{zoe.id}")
    admin.get(f"/admin/patients/{zoe.id}/erase")
    entries = [e for e in audit_actions(space.store) if e[1].startswith("patient.")]
    assert entries == [
        ("admin", "patient.list", "practice", "page=1,shown=1"),
        ("admin", "patient.search", "practice", "page=1,shown=1"),
        ("admin", "patient.read", f"patient:{zoe.id}", "appointments=0,messages=0"),
        ("admin", "patient.erase_check", f"patient:{zoe.id}", ""),
    ]
    written = " ".join(" ".join(entry) for entry in audit_actions(space.store))
    for personal in ("Müller", "Zoë", "zoe@", "4179"):
        assert personal not in written


def test_an_unknown_patient_is_not_found(admin: FlaskClient) -> None:
    for path in ("", "/erase", "/data.json", "/appointments.ics"):
        assert admin.get(f"/admin/patients/404{path}").status_code == 404


PAGES = ("", "/1", "/1/erase", "/1/data.json", "/1/appointments.ics")


@pytest.mark.parametrize("who", ["anonymous", "therapist"])
def test_nobody_but_the_admin_reaches_the_patients(space: Space, who: str) -> None:
    zoe = add_patient(space.store, "anne")
    assert zoe.id == 1
    client = space.web.new_client() if who == "anonymous" else logged_in(space, "anne")
    for path in PAGES:
        answer = client.get(f"/admin/patients{path}")
        assert location(answer).startswith("/admin/login"), path
        assert "Müller" not in text_of(answer)
    token = hidden_fields(client.get("/admin/login"), "/admin/login")
    answer = client.post("/admin/patients/1/erase", data={**token, "confirm": "yes"})
    assert location(answer).startswith("/admin/login")
    with space.store.read() as tx:
        assert tx.patient(zoe.id) is not None

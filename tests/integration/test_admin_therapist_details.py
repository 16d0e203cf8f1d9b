"""A new therapist and a therapist's details in the admin panel, on SQLite and PostgreSQL.

A therapist created in the panel lands in ``practice.toml`` (comments kept) and gets their
login and calendar at once: once the admin sets a password, the real `caldav` client logs in
and finds the ``appointments`` calendar. A therapist added to the file by hand while the
server runs gets the same without a restart. Edits write only what changed and reach the
calendar; invalid, stale or read-only forms change nothing.
"""

from __future__ import annotations

import re
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import caldav
import pytest
import requests
from caldav.elements import ical
from flask.testing import FlaskClient

from caldav_bridge.accounts import set_password
from caldav_bridge.config_loader import load_config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.provisioning import ProvisionOnChange, provision_therapists
from caldav_bridge.store import Store
from tests.integration.test_admin_practice import hand_edit
from tests.integration.test_admin_support import (
    PASSWORDS,
    Space,
    admin_panel,
    logged_in_admin,
    submit,
)
from tests.support.dav import DavServer, dav_server
from tests.support.web import attribute, configure, element, hidden_fields_in, location

NEW = "/admin/new-therapist"
ANNE = "/admin/therapists/anne/details"
CLAIRE: dict[str, str | list[str]] = {
    "login": "claire",
    "name": "Claire Dubois",
    "email": "claire@cabinet-du-lac.example",
    "phone": "079 555 01 03",
    "language": "de",
    "calendar_name": "Termine",
    "color": "#aa3366",
}
PAUL = """
[therapists.paul]
name = "Paul Martin"
email = "paul@cabinet-du-lac.example"
calendar_name = "Séances"
"""


@pytest.fixture
def space(store: Store, practice_toml: Path) -> Space:
    return admin_panel(store, practice_toml)


@pytest.fixture
def admin(space: Space) -> FlaskClient:
    return logged_in_admin(space)


@pytest.fixture
def server(practice_toml: Path, database_url: str) -> Iterator[DavServer]:
    """The whole application (web and CalDAV) served on loopback, as `serve` runs it."""
    with dav_server(practice_toml, database_url, threads=4) as found:
        set_password(found.store, "admin", PASSWORDS["admin"], "test")
        yield found


@pytest.fixture
def browser(server: DavServer) -> Iterator[Browser]:
    """The admin's browser on the served application, logged in."""
    with requests.Session() as session:
        found = Browser(server.base_url, session)
        found.log_in()
        yield found


def therapists_in(path: Path) -> dict[str, Any]:
    found = tomllib.loads(path.read_text(encoding="utf-8"))["therapists"]
    assert isinstance(found, dict)
    return found


def comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("#")]


def collection_props(store: Store, path: str) -> dict[str, str] | None:
    with store.read() as tx:
        found = tx.collection(path)
    return None if found is None else found.props


def audit_of(store: Store, subject: str) -> list[tuple[str, str, str]]:
    """(actor, action, details) of the audit entries about ``subject``, oldest first."""
    with store.read() as tx:
        entries = tx.audit_entries(limit=100)
    return [(e.actor, e.action, e.details) for e in reversed(entries) if e.subject == subject]


class Browser:
    """The admin in a browser, over HTTP, through the served application."""

    def __init__(self, base_url: str, session: requests.Session) -> None:
        self.base_url = base_url
        self.session = session

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base_url + path, timeout=30)

    def send(self, page: requests.Response, action: str, fields: dict[str, str]) -> int:
        """Post the form of ``page`` to ``action`` with ``fields``; the status (no redirects)."""
        data = {**hidden_fields_in(page.text, action), **fields}
        answer = self.session.post(
            self.base_url + action, data=data, timeout=60, allow_redirects=False
        )
        return answer.status_code

    def log_in(self) -> None:
        fields = {"login": "admin", "password": PASSWORDS["admin"]}
        assert self.send(self.get("/admin/login"), "/admin/login", fields) == 303


def caldav_client(server: DavServer, login: str, password: str) -> caldav.DAVClient:
    """The real `caldav` client, as a calendar app given the server's address would log in."""
    return caldav.DAVClient(url=server.base_url + "/", username=login, password=password)


def test_a_new_therapist_lands_in_the_file_with_a_login_and_a_calendar(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, admin.get(NEW), NEW, CLAIRE)
    assert location(answer) == "/admin/therapists/claire"
    after = practice_toml.read_text(encoding="utf-8")
    assert comments(after) == comments(before)
    assert (
        'note = "Saint-Sylvestre"\n\n[therapists.claire]\nname = "Claire Dubois"\n'
        'email = "claire@cabinet-du-lac.example"\nphone = "+41795550103"\nlanguage = "de"\n'
        'calendar_name = "Termine"\ncolor = "#AA3366"\n\n# Services ("prestations").'
    ) in after
    with space.store.read() as tx:
        user = tx.user("claire")
    assert user is not None
    assert (user.role, user.active, user.password_hash) == ("therapist", True, None)
    assert collection_props(space.store, "claire") == {
        "C:calendar-user-address-set": "mailto:claire@cabinet-du-lac.example"
    }
    assert collection_props(space.store, "claire/appointments") == {
        "tag": "VCALENDAR",
        "D:displayname": "Termine",
        "ICAL:calendar-color": "#AA3366",
        "C:supported-calendar-component-set": "VEVENT",
    }
    assert audit_of(space.store, "claire") == [
        ("admin", "therapist.create", "keys=name,email,phone,language,calendar_name,color"),
        ("admin", "login.create", ""),
    ]
    # The admin lands on the therapist's page: password next, then the hours.
    page = admin.get("/admin/therapists/claire")
    assert "Définissez son mot de passe ci-dessous, puis ses horaires." in element(page, "main")
    assert attribute(page, "hours-link", "href") == "/admin/hours/claire"
    assert admin.get("/admin/hours/claire").status_code == 200
    assert element(admin.get("/admin/therapists"), "therapist-claire") == (
        "Claire Dubois claire non défini actif"
    )


def test_a_new_therapist_logs_in_over_caldav_once_the_admin_set_a_password(
    server: DavServer, browser: Browser
) -> None:
    admin = browser
    fields = {name: value for name, value in CLAIRE.items() if isinstance(value, str)}
    assert admin.send(admin.get(NEW), NEW, fields) == 303
    page = "/admin/therapists/claire"
    password = "claire-password-1"
    sent = {"password": password, "password2": password}
    assert admin.send(admin.get(page), f"{page}/password", sent) == 303
    with caldav_client(server, "claire", password) as client:
        (calendar,) = client.principal().calendars()
        assert str(calendar.url) == f"{server.base_url}/dav/claire/appointments/"
        assert calendar.get_display_name() == "Termine"
        assert calendar.get_property(ical.CalendarColor()) == "#AA3366"


def test_a_therapist_added_by_hand_gets_a_login_and_a_calendar_without_a_restart(
    server: DavServer, browser: Browser, practice_toml: Path
) -> None:
    server.runtime.config_source.interval = 0.0  # follow the file at once
    with practice_toml.open("a", encoding="utf-8") as file:
        file.write(PAUL)
    with server.store.read() as tx:
        assert tx.user("paul") is None
    # The admin's next request, served by the running process, finds Paul ready.
    admin = browser
    page = admin.get("/admin/therapists/paul")
    assert page.status_code == 200
    assert collection_props(server.store, "paul/appointments") is not None
    assert audit_of(server.store, "paul") == [("config", "login.create", "")]
    sent = {"password": "paul-password-1", "password2": "paul-password-1"}
    assert admin.send(page, "/admin/therapists/paul/password", sent) == 303
    with caldav_client(server, "paul", "paul-password-1") as client:
        (calendar,) = client.principal().calendars()
        assert str(calendar.url) == f"{server.base_url}/dav/paul/appointments/"
        assert calendar.get_display_name() == "Séances"


def test_a_calendar_renamed_by_hand_in_the_file_is_renamed_for_calendar_apps(
    store: Store, practice_toml: Path
) -> None:
    source = ConfigSource(practice_toml, interval=0.0)
    provision_therapists(store, source.current())  # as the process started
    follower = ProvisionOnChange(source, store, provisioned=source.current())
    with store.write("marc") as tx:  # Marc renamed his calendar in his app: that stays
        props = tx.collection("marc/appointments")
        assert props is not None
        tx.set_collection_props("marc/appointments", {**props.props, "D:displayname": "Mes rdv"})
    hand_edit(practice_toml, 'color = "#2A7AB0"', 'color = "#AA3366"')
    hand_edit(
        practice_toml,
        'calendar_name = "Rendez-vous"\ncolor = "#AA3366"',
        'calendar_name = "Cabinet"\ncolor = "#AA3366"',
    )
    follower.check()
    anne = collection_props(store, "anne/appointments")
    marc = collection_props(store, "marc/appointments")
    assert anne is not None
    assert marc is not None
    assert (anne["D:displayname"], anne["ICAL:calendar-color"]) == ("Cabinet", "#AA3366")
    assert marc["D:displayname"] == "Mes rdv"


def test_processes_noticing_a_hand_edit_together_provision_it_once(
    store: Store, practice_toml: Path
) -> None:
    provision_therapists(store, load_config(practice_toml))  # as each process started
    followers = []
    for _ in range(4):  # one per process: each has its own view of the file
        source = ConfigSource(practice_toml, interval=0.0)
        followers.append(ProvisionOnChange(source, store, provisioned=source.current()))
    with practice_toml.open("a", encoding="utf-8") as file:
        file.write(PAUL)
    start = threading.Barrier(len(followers))
    created: list[tuple[str, ...]] = []
    errors: list[BaseException] = []

    def notice(follower: ProvisionOnChange) -> None:
        start.wait()
        try:
            created.append(follower.check())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=notice, args=(f,)) for f in followers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(path for paths in created for path in paths) == ["paul", "paul/appointments"]
    assert audit_of(store, "paul") == [("config", "login.create", "")]
    assert [f.check() for f in followers] == [(), (), (), ()]  # nothing new: no query


def test_editing_the_details_writes_what_changed_and_reaches_the_calendar(
    space: Space, admin: FlaskClient, practice_toml: Path
) -> None:
    before = practice_toml.read_text(encoding="utf-8")
    page = admin.get(ANNE)
    assert attribute(page, "phone", "value") == "+41 79 555 01 01"
    fields = {
        "email": "anne.rochat@cabinet-du-lac.example",
        "phone": "079 555 01 01",  # the same number, written otherwise: unchanged
        "calendar_name": "Cabinet Anne",
        "color": "#112233",
    }
    answer = submit(admin, page, ANNE, fields)
    assert location(answer) == ANNE
    after = practice_toml.read_text(encoding="utf-8")
    changed = [
        (old, new)
        for old, new in zip(before.splitlines(), after.splitlines(), strict=True)
        if old != new
    ]
    assert changed == [
        ('email = "anne@cabinet-du-lac.example"', 'email = "anne.rochat@cabinet-du-lac.example"'),
        ('calendar_name = "Rendez-vous"', 'calendar_name = "Cabinet Anne"'),
        ('color = "#2A7AB0"', 'color = "#112233"'),
    ]
    assert audit_of(space.store, "anne")[-1] == (
        "admin",
        "settings.therapist",
        "keys=email,calendar_name,color",
    )
    assert collection_props(space.store, "anne") == {
        "C:calendar-user-address-set": "mailto:anne.rochat@cabinet-du-lac.example"
    }
    calendar = collection_props(space.store, "anne/appointments")
    assert calendar is not None
    assert (calendar["D:displayname"], calendar["ICAL:calendar-color"]) == (
        "Cabinet Anne",
        "#112233",
    )
    assert element(admin.get(ANNE), "main").startswith(
        "Les coordonnées du ou de la thérapeute sont enregistrées."
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("login", "admin", "Cet identifiant est celui de l’administration du cabinet."),
        ("login", "anne", "Cet identifiant est déjà pris."),
        ("login", "paul", "Cet identifiant est déjà pris."),  # a login left in the store
        (
            "login",
            "Claire D",
            "Veuillez utiliser des lettres minuscules, des chiffres, - ou _ (63 au plus), en "
            "commençant par une lettre ou un chiffre.",
        ),
        ("login", "", "Veuillez saisir un identifiant, p. ex. claire."),
        ("name", "", "Veuillez saisir le nom du ou de la thérapeute."),
        ("email", "claire@", "Veuillez saisir une adresse e-mail valide, p. ex. nom@exemple.ch."),
        (
            "phone",
            "555 01",
            "Veuillez saisir un numéro de téléphone valide, p. ex. +41 21 555 01 00.",
        ),
        ("language", "es", "Veuillez choisir l’une des langues proposées."),
        ("calendar_name", "", "Veuillez saisir le nom du calendrier."),
        ("color", "blue", "Veuillez choisir une couleur comme #2A7AB0."),
    ],
)
def test_an_invalid_new_therapist_gets_a_message_next_to_the_field_and_nothing_changes(
    space: Space, admin: FlaskClient, practice_toml: Path, field: str, value: str, message: str
) -> None:
    with space.store.write() as tx:
        tx.ensure_user("paul", "therapist")  # removed from the file, their login kept
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, admin.get(NEW), NEW, {**CLAIRE, field: value})
    assert answer.status_code == 422
    assert element(answer, f"{field}-error") == message
    assert practice_toml.read_text(encoding="utf-8") == before
    with space.store.read() as tx:
        assert [user.login for user in tx.users()] == ["admin", "anne", "marc", "paul"]


def test_a_stale_details_form_is_refused_and_keeps_the_entries(
    admin: FlaskClient, practice_toml: Path
) -> None:
    page = admin.get(ANNE)
    hand_edit(practice_toml, 'phone = "+41 79 555 01 01"', 'phone = "+41 79 555 09 09"')
    answer = submit(admin, page, ANNE, {"name": "Anne Rochat-Favre"})
    assert answer.status_code == 409
    assert element(answer, "form-problem").startswith(
        "Le fichier de configuration a été modifié depuis l’ouverture de ce formulaire"
    )
    assert therapists_in(practice_toml)["anne"]["name"] == "Anne Rochat"
    assert attribute(answer, "name", "value") == "Anne Rochat-Favre"
    assert element(answer, "phone-in-file") == "Dans le fichier maintenant : +41 79 555 09 09"


def test_a_read_only_configuration_refuses_a_new_therapist(
    space: Space, practice_toml: Path
) -> None:
    configure(practice_toml, config_read_only="true")
    space.web.runtime.config_source.interval = 0.0
    admin = logged_in_admin(space)
    page = admin.get(NEW)
    assert element(page, "read-only").startswith("La configuration est en lecture seule")
    assert re.search(r'id="name"[^>]* disabled', page.get_data(as_text=True))
    before = practice_toml.read_text(encoding="utf-8")
    answer = submit(admin, page, NEW, CLAIRE)
    assert answer.status_code == 403
    assert practice_toml.read_text(encoding="utf-8") == before
    with space.store.read() as tx:
        assert tx.user("claire") is None


def test_an_unknown_therapist_has_no_details_page(admin: FlaskClient) -> None:
    assert admin.get("/admin/therapists/nobody/details").status_code == 404

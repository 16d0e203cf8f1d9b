"""Who may use which route of the web app, on SQLite and PostgreSQL (issue #7): every route of
the app, for every method it answers, for a visitor, therapist A (anne), therapist B (marc) and
the admin.

The routes come from the app itself (`app_rules`), so none can be missed: a route without a row
in `ROUTES` fails `test_every_route_is_classified` ("classify endpoint X"), and a URL variable
without a fixture fails `test_every_url_variable_has_a_fixture`. Each row says what each user
gets; the cases check it precisely (status, where a redirect leads, the answer's type):

- /therapist: both therapists may; a URL (or form) naming therapist A's appointment or patient
  is a 404 for B. A visitor and the admin (who is not a therapist) are sent to the therapist
  login, with ``?next=`` the page asked for on a GET.
- /admin: the admin only; visitors and therapists are sent to the admin login.
- /api/v1 and the public pages (home, booking, manage links, feeds, health): everyone alike.
  Manage links and feeds are secret addresses: whoever holds one may use it.
- Every POST except the API's carries the session's CSRF token: without it, it is refused with
  400 for everyone, before any guard or view runs. An authorized POST sends the real form of
  its page (its hidden fields) with the sender's token; others send the same fields with their
  own token.
- A refused request (guard, 404, missing token) changes nothing stored (every table, and
  practice.toml) and shows nothing of A's patients; neither does any page B may open.
- HEAD answers like GET (a refused HEAD gets no ``?next=``); OPTIONS is Flask's automatic
  answer (200, ``Allow``: the methods of every route at that address) once the guard lets the
  user through, the guard's refusal before.

Rows for new routes: pick `therapist_only`, `admin_only`, `everyone` or `per_user`; name the
fixtures of URL variables (add to `FIXTURES` a *fresh* object of therapist A when the route can
change or delete it, so that the cases stay independent of their order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from caldav_bridge.accounts import list_app_passwords
from caldav_bridge.store import Store
from tests.support.access import (
    ADMIN,
    ANONYMOUS,
    JSON,
    PAGE,
    THERAPIST_A,
    THERAPIST_B,
    Case,
    Expect,
    Route,
    admin_only,
    app_rules,
    cases,
    denied,
    everyone,
    fixture_names,
    found,
    per_user,
    therapist_only,
)
from tests.support.access_run import Fixture, Matrix
from tests.support.access_world import (
    MANAGED,
    SERVICE,
    World,
    matrix_practice,
    module_database,
)
from tests.support.web import location

DEMO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "practice.toml"
CALENDAR = Expect(200, mimetype="text/calendar")
INVALID_FORM = Expect(422, mimetype="text/html")  # field messages: the user got through
AGENDA, ACCOUNT = "/therapist/agenda", "/therapist/account"
APPOINTMENT, PATIENT = "/therapist/appointments/{uid}", "/therapist/patients/{patient_id}"
LINK = "/manage/{manage_token}"
MANAGED_PAGE = "/admin/therapists/{login}"
CONFLICT = Expect(409, mimetype="text/html")  # a form without the file's version
TEMPLATE = {"language": "template_language", "name": "template_name"}
MESSAGE_TEMPLATE = "/admin/notifications/templates/{template_language}/{template_name}"

ROUTES: dict[str, Route] = {
    # -- public pages, booking, manage links, feeds: everyone alike --------------------------
    "public.index": everyone(PAGE),
    "public.privacy": everyone(PAGE),
    "public.language": everyone(found("/privacy"), data={"lang": "en", "next": "/privacy"}),
    "static": everyone(Expect(200, mimetype="text/css"), params={"filename": "stylesheet"}),
    "health.healthz": everyone(JSON),
    "book.services": everyone(PAGE),
    "book.therapists": everyone(PAGE, params={"service_id": "service"}),
    "book.week": everyone(PAGE, params={"service_id": "service", "therapist": "therapist_a"}),
    "book.details": everyone(
        PAGE,
        params={"service_id": "service", "therapist": "therapist_a"},
        query={"start": "{free_slot}"},
    ),
    "book.confirm": everyone(found("/book/")),  # no signed form: "expired", choose again
    "book.confirmed": everyone(PAGE, params={"token": "manage_token"}),
    "manage.show": everyone(PAGE, params={"token": "manage_token"}),
    "manage.calendar": everyone(CALENDAR, params={"token": "manage_token"}),
    "manage.cancel_form": everyone(PAGE, params={"token": "manage_token"}),
    "manage.cancel_post": everyone(found(LINK), params={"token": "manage_token"}),
    "manage.reschedule_week": everyone(PAGE, params={"token": "manage_token"}),
    "manage.reschedule_confirm": everyone(
        PAGE, params={"token": "manage_token"}, query={"start": "{free_slot}"}
    ),
    "manage.reschedule_post": everyone(  # no time chosen: back to the week
        found(LINK + "/reschedule"), params={"token": "manage_token"}
    ),
    "feeds.feed": everyone(CALENDAR, params={"login": "therapist_a", "token": "feed_token"}),
    # -- the JSON API: public, no cookies, no CSRF token ---------------------------------------
    "api.slots": everyone(JSON, query={"service": SERVICE, "from": "2026-12-02"}),
    "api.create_booking": everyone(Expect(422, mimetype="application/json"), json={}, csrf=False),
    # -- the therapist space -----------------------------------------------------------------
    "therapist.login": per_user(
        {
            ANONYMOUS: PAGE,
            THERAPIST_A: found(AGENDA, 302),
            THERAPIST_B: found(AGENDA, 302),
            ADMIN: PAGE,
        }
    ),
    "therapist.login_post": everyone(INVALID_FORM),  # empty login and password
    "therapist.logout": therapist_only(found("/therapist/login")),
    "therapist.home": therapist_only(found(AGENDA, 302)),
    "therapist.agenda": therapist_only(PAGE),
    "therapist.account": therapist_only(PAGE),
    "therapist.change_password": therapist_only(INVALID_FORM),
    "therapist.create_app_password_post": therapist_only(PAGE, data={"label": "Phone"}),
    "therapist.revoke_app_password_post": therapist_only(
        found(ACCOUNT),
        mine=True,
        # B's own list has no such password: "it no longer exists", as for any unknown id.
        colleague=denied(found(ACCOUNT)),
    ),
    "therapist.revoke_feed_post": therapist_only(found(ACCOUNT)),
    "therapist.new_appointment": therapist_only(PAGE, mine=True, query={"patient": "{patient_id}"}),
    "therapist.create_appointment": therapist_only(
        INVALID_FORM,  # no time chosen
        mine=True,
        form="/therapist/appointments/new?patient={patient_id}",
        form_id="other-time",
    ),
    "therapist.appointment": therapist_only(PAGE, mine=True),
    "therapist.appointment_sms": therapist_only(found(APPOINTMENT), mine=True, form=APPOINTMENT),
    "therapist.move_form": therapist_only(PAGE, mine=True),
    "therapist.move": therapist_only(  # no time chosen
        INVALID_FORM, mine=True, form=APPOINTMENT + "/move", form_id="other-time"
    ),
    "therapist.cancel_form": therapist_only(PAGE, mine=True),
    "therapist.cancel_post": therapist_only(
        found(APPOINTMENT), mine=True, form=APPOINTMENT + "/cancel"
    ),
    "therapist.patients": therapist_only(PAGE),
    "therapist.new_patient": therapist_only(PAGE),
    "therapist.create_patient_post": therapist_only(
        found("/therapist/patients/[0-9]+"),
        form="/therapist/patients/new",
        data={"first_name": "Noé", "last_name": "Nouveau", "email": "noe@example.org"},
    ),
    "therapist.patient": therapist_only(PAGE, mine=True),
    "therapist.edit_patient": therapist_only(PAGE, mine=True),
    "therapist.update_patient_post": therapist_only(
        found(PATIENT), mine=True, form=PATIENT + "/edit", data={"notes": "Seen."}
    ),
    # -- the admin panel ---------------------------------------------------------------------
    "admin.login": per_user(
        {
            ANONYMOUS: PAGE,
            THERAPIST_A: PAGE,
            THERAPIST_B: PAGE,
            ADMIN: found("/admin/practice", 302),
        }
    ),
    "admin.login_post": everyone(INVALID_FORM),  # empty login and password
    "admin.logout": admin_only(found("/admin/login")),
    "admin.home": admin_only(found("/admin/practice", 302)),
    "admin.practice": admin_only(PAGE),
    "admin.practice_post": admin_only(
        found("/admin/practice"), form="/admin/practice", form_id="practice-form"
    ),
    "admin.hours_index": admin_only(PAGE),
    "admin.hours": admin_only(PAGE),
    "admin.hours_post": admin_only(
        found("/admin/hours/{login}"), form="/admin/hours/{login}", form_id="hours-form"
    ),
    "admin.therapists": admin_only(PAGE),
    "admin.therapist": admin_only(PAGE),
    "admin.therapist_password": admin_only(
        found(MANAGED_PAGE), data={"password": "matrix-password", "password2": "matrix-password"}
    ),
    "admin.therapist_deactivate": admin_only(found(MANAGED_PAGE)),
    "admin.therapist_reactivate": admin_only(found(MANAGED_PAGE)),
    # Services and therapists' details: an existing one's form is sent as it is (saved,
    # nothing changes); a new one's blank form gets field messages (nothing is created).
    "admin.therapist_details": admin_only(PAGE),
    "admin.therapist_details_post": admin_only(
        found(MANAGED_PAGE + "/details"),
        form=MANAGED_PAGE + "/details",
        form_id="therapist-form",
    ),
    "admin.new_therapist": admin_only(PAGE),
    "admin.new_therapist_post": admin_only(
        INVALID_FORM, form="/admin/new-therapist", form_id="therapist-form"
    ),
    "admin.services": admin_only(PAGE),
    "admin.service": admin_only(PAGE, params={"sid": "service"}),
    "admin.service_post": admin_only(
        found("/admin/services/{service}"),
        params={"sid": "service"},
        form="/admin/services/{service}",
        form_id="service-form",
    ),
    "admin.new_service": admin_only(PAGE),
    "admin.new_service_post": admin_only(
        INVALID_FORM, form="/admin/new-service", form_id="service-form"
    ),
    "admin.audit": admin_only(PAGE),
    "admin.deliveries": admin_only(PAGE),
    "admin.requeue": admin_only(found("/admin/deliveries")),
    # Patients: the erasure is sent without its box ticked (a field message, nothing erased).
    "admin.patients": admin_only(PAGE),
    "admin.patient": admin_only(PAGE),
    "admin.patient_data_json": admin_only(Expect(200, mimetype="application/json")),
    "admin.patient_data_ics": admin_only(CALENDAR),
    "admin.erase_form": admin_only(PAGE),
    "admin.erase": admin_only(
        INVALID_FORM, form="/admin/patients/{patient_id}/erase", form_id="erase-form"
    ),
    # Notifications: the forms are sent with values that change nothing (a field message, a
    # preview, a conflict), so that the cases stay independent of their order.
    "admin.notifications": admin_only(PAGE),
    "admin.notifications_post": admin_only(
        found("/admin/notifications#notifications-section"),
        form="/admin/notifications",
        form_id="notifications-form",
    ),
    "admin.provider_post": admin_only(
        INVALID_FORM,
        params={"section": "provider"},
        form="/admin/notifications",
        form_id="smtp-form",
        data={"smtp_host": ""},
    ),
    "admin.provider_remove": admin_only(CONFLICT, params={"section": "provider"}),
    "admin.test_email": admin_only(
        INVALID_FORM, form="/admin/notifications", data={"test_email": "not-an-address"}
    ),
    "admin.test_sms": admin_only(
        INVALID_FORM, form="/admin/notifications", data={"test_phone": "call me"}
    ),
    "admin.message_templates": admin_only(PAGE),
    "admin.message_template": admin_only(PAGE, params=TEMPLATE),
    "admin.message_template_post": admin_only(
        PAGE,
        params=TEMPLATE,
        form=MESSAGE_TEMPLATE,
        form_id="template-form",
        data={"text": "Bonjour {{ first_name }}", "do": "preview"},
    ),
    "admin.message_template_reset": admin_only(CONFLICT, params=TEMPLATE),
}

# Values of URL variables and templates; objects are therapist A's, made anew for each case.
FIXTURES: dict[str, Fixture] = {
    "uid": lambda world: world.appointment().uid,
    "patient_id": lambda world: str(world.patient().id),
    "password_id": lambda world: str(world.app_password()),
    "entry_id": lambda world: str(world.failed_delivery()),
    "manage_token": World.manage_token,
    "feed_token": World.feed_token,
    "free_slot": World.free_slot,
    "login": lambda world: MANAGED,  # the admin's forms change this therapist, never A or B
    "therapist_a": lambda world: THERAPIST_A,
    "service": lambda world: SERVICE,
    "stylesheet": lambda world: "style.css",
    "provider": lambda world: "smtp",
    "template_language": lambda world: "fr",
    "template_name": lambda world: "sms_reminder",
}

RULES = app_rules(DEMO_CONFIG)
RULE_OF = {rule.endpoint: rule for rule in RULES}
CASES = cases(RULES, ROUTES)
MATRIX = Matrix(RULES, ROUTES, FIXTURES)


def test_every_route_is_classified() -> None:
    missing = [
        f"classify endpoint {rule.endpoint} ({' '.join(rule.main_methods)} {rule.rule}): "
        "add its row to ROUTES in tests/integration/test_web_authorization.py"
        for rule in RULES
        if rule.endpoint not in ROUTES
    ]
    assert not missing, "\n".join(missing)


def test_every_route_has_one_method_besides_head_and_options() -> None:
    several = [
        f"endpoint {r.endpoint} ({r.rule}) takes {r.main_methods}: give each method its own "
        "view (as every route does), or teach the matrix rows per method"
        for r in RULES
        if len(r.main_methods) != 1
    ]
    assert not several, "\n".join(several)


def test_every_row_names_a_route_of_the_app() -> None:
    stale = sorted(set(ROUTES) - set(RULE_OF))
    assert not stale, f"rows for endpoints the app no longer has: {stale}"


def test_every_url_variable_has_a_fixture() -> None:
    unknown = [
        f"no fixture {name!r} for endpoint {endpoint}: extend FIXTURES in "
        "tests/integration/test_web_authorization.py"
        for endpoint, route in ROUTES.items()
        if endpoint in RULE_OF
        for name in sorted(fixture_names(route, RULE_OF[endpoint].variables) - set(FIXTURES))
    ]
    assert not unknown, "\n".join(unknown)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    """One app on one store for the module's cases, on each database."""
    folder = tmp_path_factory.mktemp(f"authorization-{request.param}")
    practice_toml = matrix_practice(DEMO_CONFIG, folder)
    with module_database(request, str(request.param), folder) as url:
        store = Store.connect(url)
        try:
            yield World(store, practice_toml)
        finally:
            store.close()


def test_the_matrix_runs_on_the_app_it_classified(world: World) -> None:
    endpoints = {rule.endpoint for rule in world.web.app.url_map.iter_rules()}
    assert endpoints == set(RULE_OF)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_route(world: World, case: Case) -> None:
    MATRIX.run(world, case)


def test_b_revoking_a_password_of_a_gets_the_answer_of_an_unknown_id(world: World) -> None:
    """The one route where B gets no 404 for A's object: B is told the password no longer
    exists, word for word what an id that never existed gets, and A's password stays."""
    mine = world.app_password()
    told = []
    for password_id in (mine, 10**9):
        client = world.browser(THERAPIST_B)
        answer = client.post(
            f"/therapist/account/app-passwords/{password_id}/revoke",
            data={"csrf_token": world.csrf_token(client)},
        )
        assert location(answer) == ACCOUNT
        told.append(re.findall(r'<p class="flash[^>]*>([^<]*)</p>', client.get(ACCOUNT).text))
    assert told[0] == told[1]
    assert len(told[0]) == 1
    assert mine in [p.id for p in list_app_passwords(world.store, THERAPIST_A)]

"""The vocabulary of the web authorization matrix (tests/integration/test_web_authorization.py).

- `Expect`: what one user gets from one request (status, where a redirect leads, the type of
  the answer), or `to_login(page)`: refused by the guard of a login page.
- `Route`: one endpoint's row of the matrix: what each user gets, which fixtures fill its URL
  variables, and what an authorized user sends to it.
- `app_rules()`: the app's routes, read from a real `create_app` at collection time, so that a
  new route is a new row to write, never a route nobody tests.
- `cases()`: one `Case` per (endpoint, method, user), plus a case without the CSRF token for
  every protected POST.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from booking_web import create_app
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Store
from tests.support.web import NOW

ANONYMOUS, THERAPIST_A, THERAPIST_B, ADMIN = "anonymous", "anne", "marc", "admin"
USERS = (ANONYMOUS, THERAPIST_A, THERAPIST_B, ADMIN)
THERAPIST_LOGIN, ADMIN_LOGIN = "/therapist/login", "/admin/login"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
WITHOUT_TOKEN = "without-csrf-token"


@dataclass(frozen=True)
class Expect:
    """An answer: ``status``; ``location`` (a regular expression over the path and query, with
    ``{fixture}`` filled in) for a redirect; ``login``: refused by that login page's guard;
    ``mimetype`` of the body; ``denied``: a refusal whose status does not say so."""

    status: int
    location: str | None = None
    login: str | None = None
    mimetype: str | None = None
    denied: bool = False

    @property
    def refused(self) -> bool:
        """Refused: nothing may change and nothing of the other therapist's may show."""
        return self.denied or self.login is not None or self.status in (400, 401, 403, 404, 405)


PAGE = Expect(200, mimetype="text/html")
JSON = Expect(200, mimetype="application/json")
NOT_FOUND = Expect(404)
NO_TOKEN = Expect(400)  # booking_web.security: a POST without this session's token


def found(location: str, status: int = 303) -> Expect:
    return Expect(status, location=location)


def denied(outcome: Expect) -> Expect:
    """``outcome``, which refuses the request although its status does not say so."""
    return replace(outcome, denied=True)


def to_login(page: str) -> Expect:
    """Refused by the guard: 303 to ``page`` (``?next=`` the page asked for, on a GET)."""
    return Expect(303, login=page)


@dataclass(frozen=True)
class Route:
    """One endpoint's row.

    ``outcomes``: what each user gets from the endpoint's method. ``params``: URL variable ->
    fixture name (default: the variable's own name). ``query`` and ``data`` are sent with the
    request (values are templates: ``"{patient_id}"``). For a POST, ``form`` is the page (a
    template) whose form posting to this URL an authorized user sends (``form_id`` picks one
    of several); ``author`` opens it; ``data`` is typed over it. Everyone else sends the same
    fields with their own session's CSRF token. ``json``: the body (API). ``csrf``: False for
    blueprints exempt from the token (the API).
    """

    outcomes: Mapping[str, Expect]
    params: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    form: str | None = None
    form_id: str | None = None
    data: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    author: str = ANONYMOUS
    csrf: bool = True

    def fixture_of(self, variable: str) -> str:
        return self.params.get(variable, variable)

    def templates(self) -> list[str]:
        locations = [e.location for e in self.outcomes.values() if e.location]
        form = [self.form] if self.form else []
        return [*self.query.values(), *self.data.values(), *form, *locations]


def fixture_names(route: Route, variables: Iterable[str]) -> set[str]:
    """Every fixture the route's URL variables and templates name."""
    names = {route.fixture_of(v) for v in variables}
    for template in route.templates():
        names.update(name for _, name, _, _ in string.Formatter().parse(template) if name)
    return names


def fill(template: str, values: Mapping[str, str]) -> str:
    return template.format_map(values)


def location_pattern(template: str, values: Mapping[str, str]) -> str:
    return template.format_map({name: re.escape(value) for name, value in values.items()})


# -- rows for the usual kinds of route -------------------------------------------------------


def everyone(outcome: Expect, **details: Any) -> Route:
    """A public route: every user gets ``outcome``."""
    return Route(dict.fromkeys(USERS, outcome), **details)


def therapist_only(
    outcome: Expect, *, mine: bool = False, colleague: Expect | None = None, **details: Any
) -> Route:
    """The therapist space: both therapists get ``outcome``, unless the URL names therapist A's
    object (``mine``): then B gets ``colleague`` (404 unless said otherwise). Visitors and the
    admin (who is not a therapist) are sent to the therapist login."""
    refused = to_login(THERAPIST_LOGIN)
    other = colleague or (NOT_FOUND if mine else outcome)
    outcomes = {ANONYMOUS: refused, THERAPIST_A: outcome, THERAPIST_B: other, ADMIN: refused}
    return Route(outcomes, author=THERAPIST_A, **details)


def admin_only(outcome: Expect, **details: Any) -> Route:
    """The admin panel: the admin gets ``outcome``; everyone else the admin login."""
    refused = to_login(ADMIN_LOGIN)
    outcomes = {ANONYMOUS: refused, THERAPIST_A: refused, THERAPIST_B: refused, ADMIN: outcome}
    return Route(outcomes, author=ADMIN, **details)


def per_user(outcomes: Mapping[str, Expect], **details: Any) -> Route:
    assert set(outcomes) == set(USERS), sorted(outcomes)
    return Route(outcomes, **details)


# -- the app's routes and the cases ----------------------------------------------------------


@dataclass(frozen=True)
class AppRule:
    endpoint: str
    rule: str
    methods: frozenset[str]
    variables: frozenset[str]

    @property
    def main_methods(self) -> list[str]:
        return sorted(self.methods - {"HEAD", "OPTIONS"})


def app_rules(practice_toml: Path) -> list[AppRule]:
    """The routes of a real `create_app` (on an empty in-memory store, which it never reads)."""
    store = Store.connect("sqlite://")
    try:
        runtime = Runtime(ConfigSource(practice_toml), store, "inventory", lambda: NOW)
        app = create_app(runtime)
        return sorted(
            (
                AppRule(r.endpoint, r.rule, frozenset(r.methods or ()), frozenset(r.arguments))
                for r in app.url_map.iter_rules()
            ),
            key=lambda r: (r.rule, r.endpoint),
        )
    finally:
        store.close()


@dataclass(frozen=True)
class Case:
    endpoint: str
    method: str
    user: str
    with_token: bool = True  # for a CSRF-protected method: send this session's token

    def __str__(self) -> str:
        token = "" if self.with_token else f"-{WITHOUT_TOKEN}"
        return f"{self.endpoint}-{self.method}{token}-{self.user}"


def cases(rules: Iterable[AppRule], routes: Mapping[str, Route]) -> list[Case]:
    """Every (endpoint, method, user) of the classified routes; unclassified ones are reported
    by their own test."""
    found: list[Case] = []
    for rule in rules:
        route = routes.get(rule.endpoint)
        if route is None or len(rule.main_methods) != 1:
            continue
        for method in sorted(rule.methods):
            for user in USERS:
                found.append(Case(rule.endpoint, method, user))
                if method not in SAFE and route.csrf:
                    found.append(Case(rule.endpoint, method, user, with_token=False))
    return found

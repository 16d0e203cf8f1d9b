"""Running one case of the web authorization matrix: fill the route's URL with fresh fixtures,
send the request as the case's user, and check the answer against the row.

A refused answer (`Expect.refused`) must leave everything stored as it was and show nothing of
therapist A's patients; neither may any answer B gets from a route of A's space.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from tests.integration.test_admin_support import browser_form
from tests.support.access import (
    NO_TOKEN,
    SAFE,
    THERAPIST_A,
    THERAPIST_B,
    AppRule,
    Case,
    Expect,
    Route,
    fill,
    fixture_names,
    location_pattern,
)
from tests.support.access_world import World
from tests.support.web import location

Fixture = Callable[[World], str]


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # path and query, as sent
    data: MultiDict[str, str] | None = None
    json: Any = None


class Matrix:
    def __init__(
        self, rules: Iterable[AppRule], routes: Mapping[str, Route], fixtures: Mapping[str, Fixture]
    ) -> None:
        self.rules = {rule.endpoint: rule for rule in rules}
        self.routes = routes
        self.fixtures = fixtures
        # What OPTIONS lists for an address: the methods of every route at it.
        self.allowed: dict[str, set[str]] = {}
        for rule in self.rules.values():
            self.allowed.setdefault(rule.rule, set()).update(rule.methods)

    def run(self, world: World, case: Case) -> None:
        rule, route = self.rules[case.endpoint], self.routes[case.endpoint]
        values = self.values(world, case.endpoint)
        request = self.prepare(world, case, values)
        expect = expected(case, route)
        before = world.state() if expect.refused else None
        answer = send(world, case, request)
        body = answer.get_data(as_text=True)
        answer.close()
        label = f"{case}: {case.method} {request.url}"
        check(answer, expect, label, request.url, values)
        if case.method == "OPTIONS" and expect.status == 200:
            allowed = {m.strip() for m in answer.headers["Allow"].split(",")}
            assert allowed == self.allowed[rule.rule], f"{label} allows {allowed}"
        if before is not None:
            changed = sorted(k for k, v in world.state().items() if before.get(k) != v)
            assert not changed, f"{label} was refused, yet it changed {changed}"
        if expect.refused or (case.user == THERAPIST_B and route.author == THERAPIST_A):
            shown = [secret for secret in world.secrets if secret in body]
            assert not shown, f"{label}: the answer shows therapist A's patients: {shown}"

    def values(self, world: World, endpoint: str) -> dict[str, str]:
        """The route's fixtures, made anew."""
        route, rule = self.routes[endpoint], self.rules[endpoint]
        values: dict[str, str] = {}
        for name in sorted(fixture_names(route, rule.variables)):
            make = self.fixtures.get(name)
            if make is None:
                pytest.fail(f"no fixture {name!r} for endpoint {endpoint}: extend FIXTURES")
            values[name] = make(world)
        return values

    def prepare(self, world: World, case: Case, values: Mapping[str, str]) -> Request:
        rule, route = self.rules[case.endpoint], self.routes[case.endpoint]
        variables = {v: values[route.fixture_of(v)] for v in rule.variables}
        adapter = world.web.app.url_map.bind("localhost")
        path = adapter.build(case.endpoint, variables, method=rule.main_methods[0])
        query = urlencode({name: fill(t, values) for name, t in route.query.items()})
        url = f"{path}?{query}" if query else path
        if case.method in SAFE:
            return Request(case.method, url)
        if route.json is not None:
            return Request(case.method, url, json=route.json)
        return Request(case.method, url, data=form_data(world, route, path, values))


def form_data(
    world: World, route: Route, action: str, values: Mapping[str, str]
) -> MultiDict[str, str]:
    """What an authorized user sends: the form of the route's page, with ``data`` typed over
    (the CSRF token is the sender's, added by `send`)."""
    data: MultiDict[str, str] = MultiDict()
    if route.form is not None:
        page = world.browser(route.author).get(fill(route.form, values))
        assert page.status_code == 200, f"{route.form}: {page.status_code}"
        data = browser_form(page, action, route.form_id)
    for name, template in route.data.items():
        data.setlist(name, [fill(template, values)])
    data.poplist("csrf_token")
    return data


def expected(case: Case, route: Route) -> Expect:
    if not case.with_token:
        return NO_TOKEN
    outcome = route.outcomes[case.user]
    if case.method == "OPTIONS" and outcome.login is None:
        return Expect(200)  # Flask's automatic answer, once past the guard
    return outcome


def send(world: World, case: Case, request: Request) -> TestResponse:
    client = world.browser(case.user)
    data = request.data
    if data is not None and case.with_token:
        data = data.copy()
        data["csrf_token"] = world.csrf_token(client)
    return client.open(request.url, method=request.method, data=data, json=request.json)


def check(
    answer: TestResponse, expect: Expect, label: str, url: str, values: Mapping[str, str]
) -> None:
    """Status, where a redirect leads (a refusal: the login page, ``?next=`` on a GET), type."""
    method = answer.request.method
    assert answer.status_code == expect.status, f"{label} answered {answer.status_code}"
    if expect.login is not None:
        target = urlsplit(location(answer))
        assert target.path == expect.login, f"{label} led to {location(answer)}"
        wanted = {"next": [url]} if method == "GET" else {}
        assert parse_qs(target.query) == wanted, f"{label} led to {location(answer)}"
    elif expect.location is not None:
        pattern = location_pattern(expect.location, values)
        assert re.fullmatch(pattern, location(answer)), f"{label} led to {location(answer)}"
    else:
        assert "Location" not in answer.headers, f"{label} led to {answer.headers['Location']}"
    if expect.mimetype is not None and method != "OPTIONS":
        assert answer.mimetype == expect.mimetype, f"{label} answered {answer.mimetype}"

"""The real Flask app on a real store, driven by Flask's test client like a browser would.

`WebApp` holds the app's client, its store and a clock the test moves; helpers read what a
patient reads (visible text, form fields) out of the HTML.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from booking_web import create_app
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Store
from tests.support.calendars import ZURICH, ensure_calendar

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZURICH)  # a Monday morning
SECRET = "test-secret-key"


@dataclass
class Clock:
    now: datetime = NOW

    def __call__(self) -> datetime:
        return self.now


@dataclass
class WebApp:
    app: Flask
    store: Store
    clock: Clock
    runtime: Runtime
    client: FlaskClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = self.app.test_client()

    def new_client(self) -> FlaskClient:
        """Another visitor (its own cookies)."""
        return self.app.test_client()


def configure(practice_toml: Path, **replacements: str) -> None:
    """Change lines of the demo configuration, e.g. ``booking_rate_limit='"off"'``."""
    text = practice_toml.read_text(encoding="utf-8")
    for key, value in replacements.items():
        text, count = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text)
        assert count == 1, key
    practice_toml.write_text(text, encoding="utf-8")


def web_app(store: Store, practice_toml: Path, *, rate: str = "off") -> WebApp:
    configure(practice_toml, booking_rate_limit=f'"{rate}"')
    for login in ("anne", "marc"):
        ensure_calendar(store, f"{login}/appointments")
    clock = Clock()
    runtime = Runtime(ConfigSource(practice_toml), store, SECRET, clock)
    return WebApp(create_app(runtime), store, clock, runtime)


def text_of(response: TestResponse) -> str:
    """The page's visible text, whitespace collapsed (tags, scripts and styles removed)."""
    page = response.get_data(as_text=True)
    page = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", page)
    page = re.sub(r"(?s)<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page)).strip()


def hidden_fields(response: TestResponse, form_action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``form_action``."""
    return hidden_fields_in(response.get_data(as_text=True), form_action)


def hidden_fields_in(page: str, form_action: str) -> dict[str, str]:
    """The hidden inputs of the form posting to ``form_action`` in the HTML ``page``."""
    match = re.search(rf'(?s)<form[^>]*action="{re.escape(form_action)}"[^>]*>(.*?)</form>', page)
    assert match, f"no form posting to {form_action}"
    return {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(
            r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(1)
        )
    }


class _TextOf(HTMLParser):
    """Collects the text inside the element with a given id (nested elements included)."""

    VOID = frozenset({"input", "br", "img", "meta", "link", "hr", "source", "wbr"})

    def __init__(self, element_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.element_id = element_id
        self.depth = 0  # > 0 while inside the element
        self.found = False
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id and not self.found:
            self.found = True
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def element(response: TestResponse, element_id: str) -> str:
    """The visible text of the element with ``id``, whitespace collapsed."""
    parser = _TextOf(element_id)
    parser.feed(response.get_data(as_text=True))
    assert parser.found, f"no element #{element_id}"
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def attribute(response: TestResponse, element_id: str, name: str) -> str | None:
    page = response.get_data(as_text=True)
    match = re.search(rf'<[^>]*\bid="{re.escape(element_id)}"[^>]*>', page)
    assert match, f"no element #{element_id}"
    found = re.search(rf'\b{name}="([^"]*)"', match.group(0))
    return html.unescape(found.group(1)) if found else None


def location(response: TestResponse) -> str:
    """The path (and query) a redirect leads to."""
    assert response.status_code in (302, 303), response.status_code
    target = response.headers["Location"]
    return re.sub(r"^https?://[^/]+", "", target)

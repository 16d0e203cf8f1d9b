"""Radicale's application, plus what the storage needs from a request and must show clients.

- **Why a write was refused.** Radicale answers every storage ``ValueError`` with a bare "400
  Bad Request", and an object above ``max_resource_size`` with "412 Precondition Failed". The
  storage keeps its refusal (status and short reason, `storage_items.Refused`) for the
  request's thread; `BridgeApplication.__call__` puts it in the response. A PUT that Radicale
  refused before reaching the storage (text vobject cannot read, an RRULE above Radicale's
  own limit) is explained by checking its body with the same gate, but only when Radicale
  accepted the request's path and handed the PUT to its handler (`do_PUT` notes Radicale's
  sanitized path in the environ): a path Radicale refused (a NUL byte, ...) is never looked
  up in the store, and keeps Radicale's own answer.
- **Expanded REPORTs from the index.** Radicale gives the storage no time range when it
  expands a calendar-query; `_read_xml_request_body` notes the ``<C:expand>`` window for the
  storage (`storage_items.expand_window`), which then loads candidates from the time index
  instead of every event.
- **The therapist's address.** Radicale answers ``calendar-user-address-set`` on a principal
  with the principal's URL only; clients that match attendees and organisers by address
  (Apple Calendar) also need ``mailto:``. Provisioning keeps the address from the
  configuration in the principal's ``C:calendar-user-address-set`` property; `_xml_response`
  lists it first.

The hooks use Radicale 3.9 names (``Application.__call__`` as a WSGI callable,
``ApplicationBase._read_xml_request_body`` and ``_xml_response``); the integration tests fail
if a Radicale release moves them.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, MutableMapping
from http import client
from typing import Any
from urllib.parse import unquote

from radicale import types
from radicale.app import Application

from radicale_plugin.storage import Storage
from radicale_plugin.storage_items import Refused, checked_object, expand_window

CALENDAR_USER_ADDRESS_SET = "{urn:ietf:params:xml:ns:caldav}calendar-user-address-set"
HREF = "{DAV:}href"
REPLACED_STATUSES = ("400", "412")
PUT_PATH_KEY = "caldav_bridge.put_path"


class BridgeApplication(Application):
    @property
    def bridge_storage(self) -> Storage:
        assert isinstance(self._storage, Storage)
        return self._storage

    def __call__(
        self, environ: types.WSGIEnviron, start_response: types.WSGIStartResponse
    ) -> Iterable[bytes]:
        storage = self.bridge_storage
        storage.start_request()
        body = b""
        if environ.get("REQUEST_METHOD") == "PUT" and isinstance(environ, MutableMapping):
            body = _buffer_body(environ)
        captured: list[Any] = []

        def capture(status: str, headers: list[tuple[str, str]]) -> None:
            captured[:] = [status, headers]

        answers = super().__call__(environ, capture)
        status, headers = captured
        refusal = storage.take_refusal()
        put_path = environ.get(PUT_PATH_KEY)
        if refusal is None and body and put_path and status.startswith(REPLACED_STATUSES):
            refusal = _explained(status, body, put_path, storage)
        if refusal is None or not status.startswith(REPLACED_STATUSES):
            start_response(status, headers)
            return answers
        return _refusal_response(refusal, start_response)

    def do_PUT(
        self,
        environ: types.WSGIEnviron,
        base_prefix: str,
        path: str,
        user: str,
        user_groups: set[str],
        request_info: dict[str, Any],
    ) -> types.WSGIResponse:
        """Radicale's PUT; notes the path Radicale accepted (sanitized) for `_explained`."""
        if isinstance(environ, MutableMapping):
            environ[PUT_PATH_KEY] = path
        response: types.WSGIResponse = super().do_PUT(
            environ, base_prefix, path, user, user_groups, request_info
        )
        return response

    def _read_xml_request_body(
        self, environ: types.WSGIEnviron, request_info: dict[str, Any]
    ) -> ET.Element | None:
        """Radicale's parsed body; a REPORT's expansion window is noted for the storage."""
        xml = super()._read_xml_request_body(environ, request_info)
        if xml is not None and environ.get("REQUEST_METHOD") == "REPORT":
            self.bridge_storage.start_request(expand=expand_window(xml))
        return xml

    def _xml_response(self, xml_content: ET.Element, request_info: dict[str, Any]) -> bytes:
        add_calendar_user_addresses(xml_content, self.bridge_storage.calendar_user_addresses)
        response: bytes = super()._xml_response(xml_content, request_info)
        return response


def add_calendar_user_addresses(root: ET.Element, addresses_of: Callable[[str], list[str]]) -> None:
    """Put each principal's own addresses before the principal URL Radicale answers."""
    for prop in list(root.iter(CALENDAR_USER_ADDRESS_SET)):
        hrefs = prop.findall(HREF)
        if len(hrefs) != 1 or not hrefs[0].text:
            continue
        principal = unquote(hrefs[0].text).strip("/").rsplit("/", 1)[-1]
        for position, address in enumerate(addresses_of(principal)):
            element = ET.Element(HREF)
            element.text = address
            prop.insert(position, element)


def _buffer_body(environ: MutableMapping[str, Any]) -> bytes:
    """Read the request body and put it back for Radicale (it reads CONTENT_LENGTH bytes)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    body: bytes = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _explained(status: str, body: bytes, path: str, storage: Storage) -> Refused | None:
    """Why Radicale refused a PUT of one object before the storage saw it, if the gate can
    tell (a whole-collection PUT holds many objects: Radicale's answer stays as it is).

    ``path`` is the one Radicale's PUT handler was given, never the raw request path."""
    if not storage.is_calendar_object_path(path):
        return None
    if status.startswith("412") and len(body) > storage.max_resource_bytes:
        limit = storage.max_resource_bytes
        return Refused(413, f"too large: {len(body)} bytes; a calendar object may have {limit}")
    if not status.startswith("400"):
        return None
    try:
        text = body.decode("utf-8")
        checked_object(text, max_bytes=storage.max_resource_bytes, default_tz=storage.default_tz())
    except UnicodeDecodeError:
        return Refused(400, "invalid iCalendar: not UTF-8 text")
    except Refused as refusal:
        return refusal
    return None


def _refusal_response(refusal: Refused, start_response: types.WSGIStartResponse) -> list[bytes]:
    text = f"{refusal.reason}\n".encode()
    reason = client.responses.get(refusal.status, "Error")
    start_response(
        f"{refusal.status} {reason}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(text)))],
    )
    return [text]

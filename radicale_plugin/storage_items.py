"""What the storage plugin checks and encodes: accepted iCalendar text, hrefs, sync tokens.

Everything here is pure: no store, no Radicale lock. `checked_object` is the one gate every
calendar object passes before the storage writes it; it raises `Refused` (a ``ValueError``, so
Radicale answers 400 and leaves its lock normally) with the HTTP status and a short reason that
`radicale_plugin.storage_responses` puts in the response.
"""

from __future__ import annotations

import hashlib
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from email.utils import format_datetime

from radicale import pathutils

from caldav_bridge.busy import series_span
from caldav_bridge.errors import ICalendarError
from caldav_bridge.ical import DEFAULT_MAX_COUNT, calendar_items, load_calendar, parse_calendar
from caldav_bridge.store import Span

log = logging.getLogger("caldav_bridge.storage")

SYNC_URI_PREFIX = "urn:x-caldav-bridge:sync:"
_SYNC_TOKEN = re.compile(re.escape(SYNC_URI_PREFIX) + r"(\d{1,18}):(\d{1,18})")
COMPONENT_SET = "C:supported-calendar-component-set"
_CALDAV = "{urn:ietf:params:xml:ns:caldav}"
_EXPANDED_PROPS = ("{DAV:}getetag", f"{_CALDAV}calendar-data")
MAX_HREF_LENGTH = 200
MAX_NAME_LENGTH = 255  # the store's columns for paths, hrefs and UIDs


class Refused(ValueError):
    """A request the storage refuses, with the HTTP status to answer and a short reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class CheckedObject:
    text: str
    span: Span


def checked_object(
    text: str, *, max_bytes: int, default_tz: tzinfo, components: str | None = None
) -> CheckedObject:
    """``text`` if the store may keep it, with its index span; else raise `Refused`.

    ``components`` is the collection's supported-calendar-component-set ("VEVENT,VTODO"), if
    it has one. O(size of the text), plus expanding a COUNT series (bounded by the COUNT limit).
    """
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        raise Refused(413, f"too large: {size} bytes; a calendar object may have {max_bytes}")
    try:
        calendar = parse_calendar(text, max_size=max_bytes, max_count=DEFAULT_MAX_COUNT)
        first = calendar_items(calendar)[0]
        start, end = series_span(calendar, default_tz)
    except ICalendarError as exc:
        raise Refused(400, f"invalid iCalendar: {exc}") from exc
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise Refused(400, "invalid iCalendar: its recurrence cannot be expanded") from exc
    checked_name(str(first["UID"]), "UID")
    component = str(first.name)
    if components and component not in components.upper().split(","):
        raise Refused(403, f"this calendar accepts only {components}, not {component}")
    span = Span(uid=str(first["UID"]), component=component, start_at=start, end_at=end)
    return CheckedObject(text=text, span=span)


def checked_tag(props: Mapping[str, str], stored: str) -> None:
    """Refuse (403) properties that would change what a collection is: its ``tag`` ("" for a
    principal or plain collection, "VCALENDAR"). RFC 4918 makes ``resourcetype`` protected."""
    tag = props.get("tag", "")
    if tag != stored:
        given, kept = tag or "a plain collection", stored or "a plain collection"
        raise Refused(403, f"a collection keeps its type: {kept} cannot become {given}")


def checked_name(name: str, what: str = "name") -> str:
    """``name`` (a path, an href, a UID) if the store can keep it, else raise `Refused`."""
    if len(name) > MAX_NAME_LENGTH:
        raise Refused(400, f"{what} too long: at most {MAX_NAME_LENGTH} characters")
    return name


def href_for_uid(uid: str, taken: set[str]) -> str:
    """The href a whole-collection upload gives the object ``uid``: ``<uid>.ics`` if safe."""
    href = uid if uid.lower().endswith(".ics") else f"{uid}.ics"
    if (
        len(href) > MAX_HREF_LENGTH
        or not pathutils.is_safe_filesystem_path_component(href)
        or href in taken
    ):
        href = hashlib.sha256(uid.encode()).hexdigest()[:40] + ".ics"
    return href


def sync_token(collection_id: int, seq: int) -> str:
    """RFC 6578 token of a collection after change ``seq``: opaque to clients, a URI."""
    return f"{SYNC_URI_PREFIX}{collection_id}:{seq}"


def token_seq(token: str, collection_id: int, last_seq: int) -> int:
    """The change sequence a client's token stands for; ValueError if this collection never
    gave it (malformed, another collection or one deleted since, or beyond the last change)."""
    match = _SYNC_TOKEN.fullmatch(token.strip())
    if match is None or int(match.group(1)) != collection_id:
        raise ValueError(f"unknown sync token {token[:80]!r}")
    seq = int(match.group(2))
    if seq > last_seq:
        raise ValueError(f"sync token {token[:80]!r} is newer than the collection")
    return seq


def http_date(moment: datetime) -> str:
    """``Tue, 01 Dec 2026 14:00:00 GMT`` (RFC 9110 IMF-fixdate)."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def expand_window(report: ET.Element) -> tuple[datetime, datetime] | None:
    """The ``<C:expand start end>`` window of a calendar-query that Radicale expands.

    Radicale drops the time-range from the filter it gives the storage when it expands, then
    leaves out every VEVENT without an occurrence in this window: only then is it returned.
    """
    expand = report.find(f".//{_CALDAV}expand")
    prop = report.find("{DAV:}prop")
    if report.tag != f"{_CALDAV}calendar-query" or expand is None or prop is None:
        return None
    if not any(child.tag in _EXPANDED_PROPS for child in prop):
        return None
    try:
        start, end = (
            datetime.strptime(expand.get(edge, ""), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
            for edge in ("start", "end")
        )
    except ValueError:
        return None
    return start, end


def readable_object(text: str, uid: str, where: str) -> bool:
    """Whether stored ``text`` reads back as one object with UID ``uid`` (else log why)."""
    try:
        calendar = load_calendar(text)
        uids = {str(c["UID"]) for c in calendar.subcomponents if "UID" in c}
    except (ICalendarError, ValueError, KeyError) as exc:
        log.error("Invalid item %r: %s", where, exc)
        return False
    if uids != {uid}:
        log.error("Invalid item %r: UIDs %r, indexed as %r", where, sorted(uids), uid)
        return False
    return True


def owner_of(path: str) -> str:
    """The login that owns a collection path ("anne/appointments" -> "anne")."""
    return path.strip("/").split("/", 1)[0]


def lock_owners(path: str, to_path: str, user: str) -> tuple[str, ...]:
    """The therapists whose calendars a write to ``path`` (and ``to_path``) may change."""
    owners = {owner_of(p) for p in (path, to_path) if p}
    if not path:
        owners.add(user)  # Radicale creating the user's principal
    return tuple(sorted(o for o in owners if o))

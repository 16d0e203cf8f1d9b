"""The read-only ICS feed: a therapist's calendars as one VCALENDAR at a secret, revocable URL.

For apps that can only subscribe to a URL (Google Calendar). The URL is
``/feeds/<login>/<token>.ics`` with ``token = HMAC(secret_key, "feed:<login>:<version>")``; the
version lives in the database, so `revoke_feed` makes the old URL answer 404 at once, in every
process, and `feed_url` gives the new one.

What it shows (DESIGN.md §8): every event of the therapist's calendars whose series ends less
than `HISTORY` ago. An event that is an appointment (its UID is in the ``appointments`` table)
is rebuilt from an allow-list of scheduling properties, with the summary "<service> – <patient>"
where the patient is shown as the practice's ``privacy`` setting says ("Z. M." or "Zoë
Müller"); its description, attendees, location, alarms and anything else are left out. The
therapist's other events pass through unchanged.

`compose_feed` and `feed_etag` are pure; `read_feed` reads everything in one transaction and
answers "not modified" from a few aggregates, before loading any item.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import icalendar
from icalendar.cal.component import Component

from caldav_bridge.config import Config, Privacy
from caldav_bridge.ical import calendar_items, load_calendar
from caldav_bridge.runtime import Runtime
from caldav_bridge.store import Store
from caldav_bridge.store.feeds import AppointmentLabel, FeedFreshness

HISTORY = timedelta(days=365)
FAR_FUTURE = datetime(9000, 1, 1, tzinfo=UTC)
FORMAT = "1"  # bump when the feed's text changes for the same data
PRODID = "-//caldav-bridge//read-only feed//EN"
APPOINTMENT_PROPERTIES = (
    "UID",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "DURATION",
    "RRULE",
    "RDATE",
    "EXDATE",
    "RECURRENCE-ID",
    "SEQUENCE",
    "STATUS",
    "TRANSP",
    "CLASS",
    "CREATED",
    "LAST-MODIFIED",
)


@dataclass(frozen=True)
class Feed:
    etag: str  # the entity tag, unquoted
    body: bytes | None  # None: the client's copy (If-None-Match) is current


# -- the secret URL ------------------------------------------------------------------------


def feed_token(secret_key: str, login: str, version: int) -> str:
    digest = hmac.new(secret_key.encode(), f"feed:{login}:{version}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()


def feed_url(runtime: Runtime, login: str) -> str:
    """The current secret address of ``login``'s feed, to paste into Google Calendar."""
    with runtime.store.read() as tx:
        version = tx.feed_version(login)
    base = runtime.config.server.public_url.rstrip("/")
    token = feed_token(runtime.secret_key, login, version)
    return f"{base}/feeds/{quote(login, safe='')}/{token}.ics"


def revoke_feed(store: Store, login: str, actor: str | None = None) -> None:
    """Make ``login``'s current feed URL stop working at once (a new one replaces it)."""
    with store.write() as tx:
        tx.bump_feed_version(login)
        tx.audit(actor or login, "feed.revoke", login)


# -- serving it ----------------------------------------------------------------------------


def read_feed(
    runtime: Runtime, login: str, token: str, is_current: Callable[[str], bool]
) -> Feed | None:
    """The feed, or None when the login or token is wrong (or the URL was revoked).

    ``is_current(etag)`` tells whether the client already has that version (If-None-Match,
    ``etag`` unquoted).
    """
    config = runtime.config
    now = runtime.clock()
    with runtime.store.read() as tx:
        user = tx.user(login)
        if user is None or not user.active or user.role != "therapist":
            return None
        expected = feed_token(runtime.secret_key, login, tx.feed_version(login))
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return None
        paths = [c.path for c in tx.child_collections(login) if c.tag == "VCALENDAR"]
        since = (now - HISTORY).date()
        etag = feed_etag(
            expected, tx.feed_freshness(login, paths), config, login, since.isoformat()
        )
        if is_current(etag):
            return Feed(etag, None)
        start = datetime.combine(since, datetime.min.time(), UTC)
        items = tx.items_between(paths, start, FAR_FUTURE)
        labels = tx.appointment_labels(item.uid for item in items)
    texts = [item.text for item in sorted(items, key=lambda i: (i.collection_path, i.href))]
    body = compose_feed(texts, labels, summary_maker(config, login), feed_name(config, login))
    return Feed(etag, body)


def feed_etag(token: str, freshness: FeedFreshness, config: Config, login: str, since: str) -> str:
    """Changes whenever the feed's text may: data, revocation, privacy, names, window."""
    language = _language(config, login)
    services = sorted((s.id, s.name(language)) for s in config.services.values())
    state = repr(
        (FORMAT, token, freshness, config.practice.privacy, services, feed_name(config, login))
    )
    return hashlib.sha256(f"{state}/{since}".encode()).hexdigest()[:32]


def feed_name(config: Config, login: str) -> str:
    therapist = config.therapists.get(login)
    who = therapist.name if therapist is not None else login
    return f"{config.practice.name} – {who}"


def summary_maker(config: Config, login: str) -> Callable[[AppointmentLabel], str]:
    """How an appointment is titled in this practice's feeds, in the therapist's language."""
    language = _language(config, login)
    privacy = config.practice.privacy

    def summary(label: AppointmentLabel) -> str:
        service = config.services.get(label.service)
        name = service.name(language) if service is not None else label.service
        patient = patient_label(label.first_name, label.last_name, privacy)
        return f"{name} – {patient}" if patient else name

    return summary


def patient_label(first_name: str | None, last_name: str | None, privacy: Privacy) -> str:
    """ "Zoë Müller" or, for "initials", "Z. M." (a compound "Jean-Luc" gives "J.-L.")."""
    words = [w for w in f"{first_name or ''} {last_name or ''}".split() if w]
    if privacy == "full_name":
        return " ".join(words)
    return " ".join(_initials(word) for word in words)


def _initials(word: str) -> str:
    parts = [p for p in word.split("-") if p]
    return "-".join(p[0].upper() + "." for p in parts)


def _language(config: Config, login: str) -> str:
    therapist = config.therapists.get(login)
    return therapist.language if therapist is not None else config.practice.default_language


# -- composing it (pure) -------------------------------------------------------------------


def compose_feed(
    texts: Iterable[str],
    labels: Mapping[str, AppointmentLabel],
    summary: Callable[[AppointmentLabel], str],
    name: str,
) -> bytes:
    """One VCALENDAR of every object in ``texts``; appointments (by UID) rebuilt privately.

    Each time zone is defined once: by the first object that defines it, else from the
    system's zone database.
    """
    feed = icalendar.Calendar()
    feed.add("VERSION", "2.0")
    feed.add("PRODID", PRODID)
    feed.add("CALSCALE", "GREGORIAN")
    feed.add("METHOD", "PUBLISH")
    feed.add("X-WR-CALNAME", name)
    zones: dict[str, Component] = {}
    events: list[Component] = []
    for text in texts:
        calendar = load_calendar(text)
        for zone in calendar.walk("VTIMEZONE"):
            zones.setdefault(str(zone.get("TZID")), zone)
        for component in calendar_items(calendar):
            label = labels.get(str(component.get("UID", "")))
            events.append(component if label is None else private_copy(component, summary(label)))
    for event in events:
        feed.add_component(event)
    used = feed.get_used_tzids()
    feed.subcomponents[:0] = [zones[tzid] for tzid in sorted(used & zones.keys())]
    feed.add_missing_timezones()
    return bytes(feed.to_ical())


def private_copy(component: Component, summary: str) -> Component:
    """An appointment as a synced calendar may show it: when, and ``summary``; nothing else."""
    copy = icalendar.Event()
    for name in APPOINTMENT_PROPERTIES:
        if name in component:
            copy[name] = component[name]
    copy.add("SUMMARY", summary)
    return copy

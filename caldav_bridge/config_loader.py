"""Reads ``practice.toml`` into the typed objects of `caldav_bridge.config`.

Every relative path in the file is relative to the file's own folder. Each section has one
reader; every value goes through `config_reader.Table`, so errors name file, key and problem.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
import zoneinfo
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, cast

from caldav_bridge.config import (
    LANGUAGES,
    BookingPolicy,
    Config,
    NotificationSettings,
    PracticeConfig,
    ServerConfig,
    ServiceConfig,
    SlotSettings,
    SmtpConfig,
    TherapistConfig,
    TwilioConfig,
    WebConfig,
)
from caldav_bridge.config_reader import Table, parse_hhmm, show
from caldav_bridge.errors import ConfigError
from caldav_bridge.opening_hours import DateException, TimeRange

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_RATE = re.compile(r"^(off|[1-9]\d{0,5}/(second|minute|hour|day))$")
MiB = 1024 * 1024


def load_config(path: str | Path) -> Config:
    """Read, validate and return the configuration at ``path``, or raise `ConfigError`."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(str(path), "", "file not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), "", f"cannot read the file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), "", f"not valid TOML: {exc}") from exc
    return config_from_dict(raw, path)


def config_from_dict(raw: dict[str, Any], path: Path) -> Config:
    """Validate an already-parsed TOML document that came from ``path``."""
    root = Table(str(path), "", raw)
    base = path.resolve().parent
    practice = read_practice(root.table("practice", required=True))
    server = read_server(root.table("server"), base)
    booking = read_booking(root.table("booking"))
    therapists = read_therapists(root.table("therapists", required=True), practice)
    services = read_services(root.table("services", required=True), practice, booking, therapists)
    config = Config(
        path=path,
        practice=practice,
        server=server,
        booking=booking,
        notifications=read_notifications(root.table("notifications"), server.data_dir, base),
        web=read_web(root.table("web")),
        smtp=read_smtp(root.table("smtp")) if root.has("smtp") else None,
        twilio=read_twilio(root.table("twilio")) if root.has("twilio") else None,
        therapists=MappingProxyType(therapists),
        services=MappingProxyType(services),
    )
    root.done()
    return config


def read_practice(t: Table) -> PracticeConfig:
    tz = t.text("timezone", "Europe/Zurich")
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        t.fail(
            "timezone",
            f'{show(tz)} is not a known time zone; expected an IANA name such as "Europe/Zurich"',
        )
    languages = t.texts("languages", ["fr", "de", "it", "en"])
    for lang in languages:
        if lang not in LANGUAGES:
            t.fail(
                "languages",
                f"{show(lang)} is not supported; expected some of: {', '.join(LANGUAGES)}",
            )
    if not languages or len(set(languages)) != len(languages):
        t.fail(
            "languages",
            "expected at least one language, each listed once (the first is the default)",
        )
    privacy = t.text("privacy", "initials", choices=("full_name", "initials"))
    practice = PracticeConfig(
        name=t.text("name"),
        address=t.text("address", ""),
        phone=t.text("phone", ""),
        email=t.text("email", ""),
        timezone_name=tz,
        languages=tuple(languages),
        privacy=cast(Literal["full_name", "initials"], privacy),
    )
    t.done()
    return practice


def read_server(t: Table, base: Path) -> ServerConfig:
    data_dir = (base / t.text("data_dir", "data")).resolve()
    url = t.text("database_url", "")
    if url and not url.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
        t.fail(
            "database_url",
            f'{show(url)} is not supported; expected "sqlite:///PATH" or "postgresql://..."',
        )
    server = ServerConfig(
        data_dir=data_dir,
        database_url=url,
        public_url=t.text("public_url", "http://127.0.0.1:8080").rstrip("/"),
        secret_key_env=t.env_name("secret_key_env", "CALDAV_BRIDGE_SECRET_KEY") or "",
        config_read_only=t.boolean("config_read_only", False),
        trusted_proxy=_address(t, "trusted_proxy"),
        max_request_bytes=t.integer("max_request_mib", 10, low=1, high=1024, what="MiB") * MiB,
        max_resource_bytes=t.integer("max_resource_kib", 1024, low=16, high=65536, what="KiB")
        * 1024,
    )
    t.done()
    return server


def read_slot_settings(t: Table, default: SlotSettings | None) -> SlotSettings:
    """The slot settings of [booking], or a service's overrides of them (``default``)."""
    step = _minutes(default.flexible_step) if default else 15
    buffer = _minutes(default.buffer) if default else 0
    step = t.integer("flexible_step_minutes", step, low=5, high=240, what="minutes")
    buffer = t.integer("buffer_minutes", buffer, low=0, high=240, what="minutes")
    last = t.text(
        "fixed_last_slot",
        default.fixed_last_slot if default else "may_overrun",
        choices=("may_overrun", "must_fit"),
    )
    anchor = t.text(
        "fixed_anchor",
        default.fixed_anchor if default else "period",
        choices=("period", "after_busy"),
    )
    return SlotSettings(
        flexible_step=timedelta(minutes=step),
        buffer=timedelta(minutes=buffer),
        fixed_last_slot=cast(Literal["may_overrun", "must_fit"], last),
        fixed_anchor=cast(Literal["period", "after_busy"], anchor),
    )


def read_booking(t: Table) -> BookingPolicy:
    policy = BookingPolicy(
        minimum_notice=timedelta(
            minutes=t.integer(
                "minimum_notice_minutes", 120, low=0, high=60 * 24 * 30, what="minutes"
            )
        ),
        horizon=timedelta(days=t.integer("horizon_days", 90, low=1, high=730, what="days")),
        patient_change_cutoff=timedelta(
            hours=t.integer("patient_change_cutoff_hours", 24, low=0, high=24 * 14, what="hours")
        ),
        slots=read_slot_settings(t, None),
    )
    t.done()
    return policy


def read_periods(t: Table, name: str) -> tuple[TimeRange, ...]:
    periods: list[TimeRange] = []
    for i, text in enumerate(t.texts(name, [])):
        key = f"{name}[{i}]"
        parts = text.split("-")
        start, end = (parse_hhmm(p.strip()) for p in parts) if len(parts) == 2 else (None, None)
        if start is None or end is None:
            t.fail(key, f'{show(text)} is not a period; expected "HH:MM-HH:MM", e.g. "14:00-18:00"')
        if end <= start:
            t.fail(
                key,
                f'{show(text)} ends before it starts; expected "HH:MM-HH:MM" with the start first',
            )
        if periods and start < periods[-1].end:
            t.fail(
                key,
                f"{show(text)} overlaps or precedes {periods[-1]}; "
                "expected periods in order, not overlapping",
            )
        periods.append(TimeRange(start, end))
    return tuple(periods)


def read_exception(t: Table) -> DateException:
    single, first, last = t.day("date"), t.day("from"), t.day("to")
    if single is not None and (first is not None or last is not None):
        t.fail("date", 'use either "date" or "from"/"to", not both')
    first = single or first
    last = single or last or first
    if first is None or last is None:
        t.fail("from", 'missing; expected "date = 2026-12-24" or "from = ..." and "to = ..."')
    if last < first:
        t.fail("to", f"{last} is before {first}; expected the last day of the range")
    hours = read_periods(t, "hours")
    exception = DateException(first=first, last=last, hours=hours, note=t.text("note", ""))
    t.done()
    return exception


def read_therapists(t: Table, practice: PracticeConfig) -> dict[str, TherapistConfig]:
    therapists: dict[str, TherapistConfig] = {}
    for login, tt in t.tables():
        if not _ID.match(login) or login == "admin":
            t.fail(
                login,
                f"{show(login)} is not a valid login; "
                "expected lowercase letters, digits, - or _ (and not admin)",
            )
        hours = tt.table("hours")
        weekly = {day: read_periods(hours, name) for day, name in enumerate(WEEKDAYS)}
        hours.done()
        color = tt.text("color", "#2A7AB0")
        if not _COLOR.match(color):
            tt.fail("color", f'{show(color)} is not a colour; expected "#RRGGBB"')
        therapists[login] = TherapistConfig(
            login=login,
            name=tt.text("name"),
            email=tt.text("email", ""),
            phone=tt.text("phone", ""),
            language=tt.text("language", practice.default_language, choices=practice.languages),
            weekly_hours=MappingProxyType({d: p for d, p in weekly.items() if p}),
            exceptions=tuple(read_exception(x) for x in tt.table_list("exceptions")),
            calendar_name=tt.text("calendar_name", "Rendez-vous"),
            color=color,
            active=tt.boolean("active", True),
        )
        tt.done()
    if not therapists:
        t.fail("", "no therapist; expected at least one [therapists.<login>] section")
    return therapists


def read_services(
    t: Table,
    practice: PracticeConfig,
    booking: BookingPolicy,
    therapists: dict[str, TherapistConfig],
) -> dict[str, ServiceConfig]:
    services: dict[str, ServiceConfig] = {}
    for sid, st in t.tables():
        if not _ID.match(sid):
            t.fail(
                sid, f"{show(sid)} is not a valid id; expected lowercase letters, digits, - or _"
            )
        names = st.table("name", required=True)
        localized = {lang: names.text(lang) for lang in LANGUAGES if names.has(lang)}
        names.done()
        if practice.default_language not in localized:
            names.fail(
                practice.default_language,
                "missing; expected the name in the practice's default language",
            )
        who = st.texts("therapists")
        for login in who:
            if login not in therapists:
                st.fail(
                    "therapists",
                    f"{show(login)} is not a therapist in this file; "
                    f"expected some of: {', '.join(therapists)}",
                )
        availability = st.text("availability", choices=("fixed", "flexible"))
        services[sid] = ServiceConfig(
            id=sid,
            names=MappingProxyType(localized),
            duration=timedelta(
                minutes=st.integer("duration_minutes", low=5, high=600, what="minutes")
            ),
            availability=cast(Literal["fixed", "flexible"], availability),
            therapists=tuple(who),
            active=st.boolean("active", True),
            slots=read_slot_settings(st, booking.slots),
        )
        st.done()
    return services


def read_notifications(t: Table, data_dir: Path, base: Path) -> NotificationSettings:
    lead = t.integer("reminder_lead_hours", 24, low=24, high=72, what="hours (24, 48 or 72)")
    if lead not in (24, 48, 72):
        t.fail("reminder_lead_hours", f"{lead} is not allowed; expected 24, 48 or 72")
    outbox = t.text("outbox_dir", "")
    settings = NotificationSettings(
        reminder_lead=timedelta(hours=lead),
        sms_reminders=t.boolean("sms_reminders", True),
        email_reminders=t.boolean("email_reminders", False),
        sms_notices=t.boolean("sms_notices", False),
        outbox_dir=(base / outbox).resolve() if outbox else data_dir / "outbox",
    )
    t.done()
    return settings


def read_smtp(t: Table) -> SmtpConfig:
    security = t.text("security", "starttls", choices=("none", "starttls", "tls"))
    smtp = SmtpConfig(
        host=t.text("host"),
        port=t.integer("port", 587, low=1, high=65535, what="a TCP port"),
        security=cast(Literal["none", "starttls", "tls"], security),
        username=t.text("username", ""),
        password_env=t.env_name("password_env"),
        sender=t.text("from"),
    )
    t.done()
    return smtp


def read_twilio(t: Table) -> TwilioConfig:
    twilio = TwilioConfig(
        account_sid=t.text("account_sid"),
        auth_token_env=t.env_name("auth_token_env", "TWILIO_AUTH_TOKEN") or "",
        from_number=t.text("from_number", ""),
        messaging_service_sid=t.text("messaging_service_sid", ""),
        api_base_url=t.text("api_base_url", "").rstrip("/"),
    )
    if not (twilio.from_number or twilio.messaging_service_sid):
        t.fail("from_number", "missing; expected from_number or messaging_service_sid")
    t.done()
    return twilio


def read_web(t: Table) -> WebConfig:
    rate = t.text("booking_rate_limit", "10/minute")
    if not _RATE.match(rate):
        t.fail(
            "booking_rate_limit", f'{show(rate)} is not a rate; expected e.g. "10/minute" or "off"'
        )
    web = WebConfig(booking_rate_limit=rate)
    t.done()
    return web


def _address(t: Table, name: str) -> str:
    found = t.text(name, "")
    if found:
        try:
            ipaddress.ip_address(found)
        except ValueError:
            t.fail(name, f'{show(found)} is not an IP address; expected e.g. "127.0.0.1"')
    return found


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)

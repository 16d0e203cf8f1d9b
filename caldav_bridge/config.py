"""The practice configuration (``practice.toml``) as typed, immutable objects.

`caldav_bridge.config_loader.load_config` builds these from the file. Secrets never appear in
them: the file names the environment variables that hold them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from caldav_bridge.opening_hours import DateException, WeeklyHours

LANGUAGES = ("fr", "de", "it", "en")
Privacy = Literal["full_name", "initials"]
FixedLastSlot = Literal["may_overrun", "must_fit"]
FixedAnchor = Literal["period", "after_busy"]


@dataclass(frozen=True)
class PracticeConfig:
    name: str
    address: str
    phone: str
    email: str
    timezone_name: str
    languages: tuple[str, ...]
    privacy: Privacy

    @property
    def default_language(self) -> str:
        return self.languages[0]

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)


@dataclass(frozen=True)
class ServerConfig:
    data_dir: Path
    database_url: str
    public_url: str
    secret_key_env: str
    config_read_only: bool
    trusted_proxy: str
    max_request_bytes: int
    max_resource_bytes: int


@dataclass(frozen=True)
class SlotSettings:
    """Slot settings: practice-wide in [booking], each one overridable per service."""

    flexible_step: timedelta
    buffer: timedelta
    fixed_last_slot: FixedLastSlot
    fixed_anchor: FixedAnchor


@dataclass(frozen=True)
class BookingPolicy:
    minimum_notice: timedelta
    horizon: timedelta
    patient_change_cutoff: timedelta
    slots: SlotSettings


@dataclass(frozen=True)
class NotificationSettings:
    reminder_lead: timedelta
    sms_reminders: bool
    email_reminders: bool
    sms_notices: bool
    outbox_dir: Path


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Literal["none", "starttls", "tls"]
    username: str
    password_env: str | None
    sender: str


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token_env: str
    from_number: str
    messaging_service_sid: str
    api_base_url: str


@dataclass(frozen=True)
class WebConfig:
    booking_rate_limit: str


@dataclass(frozen=True)
class TherapistConfig:
    login: str
    name: str
    email: str
    phone: str
    language: str
    weekly_hours: WeeklyHours
    exceptions: tuple[DateException, ...]
    calendar_name: str
    color: str
    active: bool


@dataclass(frozen=True)
class ServiceConfig:
    id: str
    names: Mapping[str, str]
    duration: timedelta
    availability: Literal["fixed", "flexible"]
    therapists: tuple[str, ...]
    active: bool
    slots: SlotSettings

    def name(self, language: str) -> str:
        return self.names.get(language) or next(iter(self.names.values()))


@dataclass(frozen=True)
class Config:
    path: Path
    practice: PracticeConfig
    server: ServerConfig
    booking: BookingPolicy
    notifications: NotificationSettings
    web: WebConfig
    smtp: SmtpConfig | None
    twilio: TwilioConfig | None
    therapists: Mapping[str, TherapistConfig] = field(default_factory=dict)
    services: Mapping[str, ServiceConfig] = field(default_factory=dict)

    def summary(self) -> str:
        active = [s for s in self.services.values() if s.active]
        return (
            f"{self.path}: OK: practice {self.practice.name!r}, "
            f"{len(self.therapists)} therapists ({', '.join(self.therapists)}), "
            f"{len(active)} active services ({', '.join(s.id for s in active)}), "
            f"time zone {self.practice.timezone_name}"
        )

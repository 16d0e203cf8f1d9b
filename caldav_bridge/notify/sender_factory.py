"""The senders a configuration asks for, with their secrets from the environment.

SMTP and Twilio when ``practice.toml`` has their sections (secrets from the environment
variables it names), else the demo's file senders writing to ``notifications.outbox_dir``.
The entry points pass the environment in; nothing here reads ``os.environ``. Used by the
watcher (`SenderFactory`, which follows configuration reloads) and by the admin panel's test
messages (`email_sender`, `sms_sender`), so both send through the same clients.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import formataddr

from caldav_bridge.config import Config
from caldav_bridge.errors import ConfigError
from caldav_bridge.notify.senders import (
    EmailIdentity,
    FileSender,
    Sender,
    Senders,
    SmtpSender,
    TwilioSender,
)

DEMO_SENDER = "no-reply@caldav-bridge.invalid"


class MissingSecretError(ConfigError):
    """The environment variable the file names for a secret is not set (or empty)."""

    def __init__(self, path: str, key: str, variable: str) -> None:
        super().__init__(path, key, f"environment variable {variable} is not set")
        self.variable = variable


def secret(config: Config, key: str, name: str | None, environ: Mapping[str, str]) -> str | None:
    """The value of the variable ``name`` (None when the file names none)."""
    if not name:
        return None
    value = environ.get(name)
    if not value:
        raise MissingSecretError(str(config.path), key, name)
    return value


def email_sender(
    config: Config, environ: Mapping[str, str], clock: Callable[[], datetime]
) -> Sender:
    """SMTP if configured, else the file sender; raises `MissingSecretError`."""
    if config.smtp is None:
        return FileSender(config.notifications.outbox_dir, demo_identity(config, clock))
    password = secret(config, "smtp.password_env", config.smtp.password_env, environ)
    identity = EmailIdentity(config.smtp.sender, config.practice.email, clock)
    return SmtpSender(config.smtp, password, identity)


def sms_sender(config: Config, environ: Mapping[str, str], clock: Callable[[], datetime]) -> Sender:
    """Twilio if configured, else the file sender; raises `MissingSecretError`."""
    if config.twilio is None:
        return FileSender(config.notifications.outbox_dir, demo_identity(config, clock))
    token = secret(config, "twilio.auth_token_env", config.twilio.auth_token_env, environ)
    return TwilioSender(config.twilio, token or "")


def demo_identity(config: Config, clock: Callable[[], datetime]) -> EmailIdentity:
    practice = config.practice
    return EmailIdentity(
        formataddr((practice.name, practice.email or DEMO_SENDER)), practice.email, clock
    )


class SenderFactory:
    """Senders for a configuration, rebuilt only when the sending settings change."""

    def __init__(self, environ: Mapping[str, str], clock: Callable[[], datetime]) -> None:
        self.environ = environ
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: tuple[object, Senders] | None = None

    def __call__(self, config: Config) -> Senders:
        key = (config.smtp, config.twilio, config.notifications.outbox_dir, config.practice)
        with self._lock:
            if self._cached is None or self._cached[0] != key:
                self._cached = (key, self._build(config))
            return self._cached[1]

    def _build(self, config: Config) -> Senders:
        return Senders(
            email=email_sender(config, self.environ, self.clock),
            sms=sms_sender(config, self.environ, self.clock),
        )

"""The watcher's dependencies, built where secrets may be read: the entry point.

SMTP and Twilio when `practice.toml` has their sections (secrets from the environment
variables it names), else the demo's file senders writing to ``notifications.outbox_dir``.
The senders follow configuration reloads; a missing secret stops start-up with one line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from email.utils import formataddr

from caldav_bridge.config import Config
from caldav_bridge.errors import ConfigError
from caldav_bridge.notify.samples import check_templates
from caldav_bridge.notify.senders import (
    EmailIdentity,
    FileSender,
    Sender,
    Senders,
    SmtpSender,
    TwilioSender,
)
from caldav_bridge.notify.templates import Templates
from caldav_bridge.runtime import Runtime
from caldav_bridge.watcher import Notifier, Watcher

DEMO_SENDER = "no-reply@caldav-bridge.invalid"


def build_watcher(runtime: Runtime, environ: Mapping[str, str]) -> Watcher:
    config = runtime.config
    folder = config.path.parent / "templates"
    check_templates(config, folder)
    senders = SenderFactory(environ, runtime.clock)
    senders(config)  # fail now on a missing secret
    notifier = Notifier(
        config=lambda: runtime.config,
        templates=Templates(folder),
        secret_key=runtime.secret_key,
        senders=senders,
    )
    return Watcher(runtime.store, notifier)


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
        practice = config.practice
        demo = FileSender(
            config.notifications.outbox_dir,
            EmailIdentity(
                formataddr((practice.name, practice.email or DEMO_SENDER)),
                practice.email,
                self.clock,
            ),
        )
        email: Sender = demo
        sms: Sender = demo
        if config.smtp is not None:
            password = self._secret(config, "smtp.password_env", config.smtp.password_env)
            identity = EmailIdentity(config.smtp.sender, practice.email, self.clock)
            email = SmtpSender(config.smtp, password, identity)
        if config.twilio is not None:
            token = self._secret(config, "twilio.auth_token_env", config.twilio.auth_token_env)
            sms = TwilioSender(config.twilio, token or "")
        return Senders(email=email, sms=sms)

    def _secret(self, config: Config, key: str, name: str | None) -> str | None:
        if not name:
            return None
        value = self.environ.get(name)
        if not value:
            raise ConfigError(str(config.path), key, f"environment variable {name} is not set")
        return value

"""A test message: one email or SMS the admin sends to check the provider settings.

It goes through the watcher's own senders (`sender_factory`), once, outside the outbox: it
carries no patient data and nothing retries it. Without an [smtp] (or [twilio]) section there
is no provider to check: `NotConfiguredError`, and nothing is written to the demo outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from caldav_bridge.config import Config
from caldav_bridge.errors import BridgeError
from caldav_bridge.notify.messages import EMAIL, Channel, Email, Sms
from caldav_bridge.notify.sender_factory import email_sender, sms_sender
from caldav_bridge.notify.senders import DeliveryError, Envelope, TemporaryFailure

TEMPLATE = "test"


class NotConfiguredError(BridgeError):
    def __init__(self, channel: Channel) -> None:
        super().__init__(f"no provider configured for {channel}")
        self.channel = channel


def send_test_message(
    config: Config,
    environ: Mapping[str, str],
    clock: Callable[[], datetime],
    recipient: str,
    content: Email | Sms,
) -> str:
    """Send ``content`` to ``recipient``; the provider's answer (its message id).

    Raises `NotConfiguredError`, `sender_factory.MissingSecretError` or a `DeliveryError`.
    """
    channel: Channel = EMAIL if isinstance(content, Email) else "sms"
    if (config.smtp if channel == EMAIL else config.twilio) is None:
        raise NotConfiguredError(channel)
    build = email_sender if channel == EMAIL else sms_sender
    sender = build(config, environ, clock)
    envelope = Envelope(0, f"test:{uuid.uuid4().hex}", channel, recipient, TEMPLATE, content)
    try:
        return sender.send(envelope, lambda: True) or ""
    except DeliveryError:
        raise
    except Exception as exc:  # a diagnostic: whatever the client raised, say it, no traceback
        raise TemporaryFailure(f"{type(exc).__name__}: {exc}", "unexpected") from exc

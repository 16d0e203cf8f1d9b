"""The watcher's dependencies, built where secrets may be read: the entry point.

SMTP and Twilio when `practice.toml` has their sections (secrets from the environment
variables it names), else the demo's file senders writing to ``notifications.outbox_dir``
(`caldav_bridge.notify.sender_factory`). The senders follow configuration reloads; a missing
secret stops start-up with one line.
"""

from __future__ import annotations

from collections.abc import Mapping

from caldav_bridge.notify.samples import check_templates
from caldav_bridge.notify.sender_factory import DEMO_SENDER, SenderFactory
from caldav_bridge.notify.template_files import templates_folder
from caldav_bridge.notify.templates import Templates
from caldav_bridge.runtime import Runtime
from caldav_bridge.watcher import Notifier, Watcher

__all__ = ["DEMO_SENDER", "SenderFactory", "build_watcher"]


def build_watcher(runtime: Runtime, environ: Mapping[str, str]) -> Watcher:
    config = runtime.config
    folder = templates_folder(config.path)
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

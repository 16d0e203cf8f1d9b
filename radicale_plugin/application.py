"""Builds the Radicale WSGI application with our plugins bound to one store."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import radicale.config
from radicale.app import Application

from caldav_bridge.store import Store
from radicale_plugin.auth import Auth


def make_application(
    store: Store, data_dir: Path, max_request_bytes: int, max_resource_bytes: int
) -> Application:
    """A Radicale application serving CalDAV with our auth over ``store``."""
    configuration = radicale.config.load()

    def auth_factory(radicale_config: radicale.config.Configuration) -> Auth:
        return Auth(radicale_config, store)

    settings: dict[str, dict[str, Any]] = {
        "auth": {"type": auth_factory, "delay": "1"},
        "rights": {"type": "owner_only"},
        "storage": {"filesystem_folder": str(data_dir / "collections")},
        "web": {"type": "none"},
        "server": {
            "max_content_length": str(max_request_bytes),
            "max_resource_size": str(min(max_resource_bytes, int(max_request_bytes * 0.8))),
        },
        # Request paths and client addresses only; never bodies (patient data) at INFO.
        "logging": {"level": "warning", "mask_passwords": "True"},
    }
    configuration.update(settings, "caldav-bridge", privileged=True)
    logging.getLogger("radicale").setLevel(logging.WARNING)
    return Application(configuration)

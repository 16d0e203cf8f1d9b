"""Builds the Radicale WSGI application with our plugins bound to one store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import tzinfo
from pathlib import Path
from typing import Any

import radicale.config
from radicale.app import Application

from caldav_bridge.accounts import Authenticator
from caldav_bridge.login_throttle import Scope
from caldav_bridge.store import Store
from radicale_plugin.auth import Auth, TooManyRequests
from radicale_plugin.rights import Rights
from radicale_plugin.storage import Storage
from radicale_plugin.storage_responses import BridgeApplication


def make_application(
    store: Store,
    data_dir: Path,
    max_request_bytes: int,
    max_resource_bytes: int,
    *,
    timezone: Callable[[], tzinfo],
    secret_key: str,
) -> Application:
    """A Radicale application serving CalDAV with our auth and storage over ``store``.

    ``timezone`` gives the practice's zone, in which the storage indexes floating times;
    ``secret_key`` is the deployment's, from which the login throttle keys its digests.
    """
    configuration = radicale.config.load()

    # One per application: its success cache; its throttle counts in the store, with every
    # process's calendar-app logins.
    authenticator = Authenticator(store, secret_key, Scope.CALDAV)

    def auth_factory(radicale_config: radicale.config.Configuration) -> Auth:
        return Auth(radicale_config, authenticator)

    def rights_factory(radicale_config: radicale.config.Configuration) -> Rights:
        return Rights(radicale_config, authenticator.role_of)

    def storage_factory(radicale_config: radicale.config.Configuration) -> Storage:
        return Storage(radicale_config, store, timezone)

    settings: dict[str, dict[str, Any]] = {
        # No extra sleep per 401/403: the throttle bounds guesses without holding a thread.
        "auth": {"type": auth_factory, "delay": "0"},
        # Deleting or replacing a collection needs the D or O letter (radicale_plugin.rights).
        "rights": {
            "type": rights_factory,
            "permit_delete_collection": "False",
            "permit_overwrite_collection": "False",
        },
        # Radicale's own folder stays configured for its optional sharing database only.
        "storage": {"type": storage_factory, "filesystem_folder": str(data_dir / "collections")},
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
    return CalDAVApplication(configuration)


class CalDAVApplication(TooManyRequests, BridgeApplication):
    """Radicale with the storage's refusal answers and the login throttle's 429."""

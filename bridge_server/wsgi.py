"""Builds the runtime and the one WSGI application of `caldav-bridge serve`.

For gunicorn or another WSGI server: ``caldav-bridge.wsgi:application`` is not provided on
purpose; use ``bridge_server.wsgi:make_wsgi_app()`` with CALDAV_BRIDGE_CONFIG set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from booking_web import create_app
from bridge_server.dispatch import Dispatcher
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.provisioning import ProvisionOnChange, provision_therapists
from caldav_bridge.runtime import Runtime
from caldav_bridge.secret_key import secret_key
from caldav_bridge.store import Store, utc_now
from caldav_bridge.store.database import database_url
from caldav_bridge.store.migrate import require_current
from radicale_plugin.application import make_application

CONFIG_ENV = "CALDAV_BRIDGE_CONFIG"
DEFAULT_CONFIG = "config/practice.toml"


def config_path(given: str | None, environ: Mapping[str, str]) -> Path:
    return Path(given or environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def open_store(source: ConfigSource, environ: Mapping[str, str]) -> Store:
    """The store the configuration points to; raises `StoreError` if unreachable."""
    server = source.current().server
    return Store.connect(database_url(server.database_url, server.data_dir, environ), utc_now)


def build_runtime(path: Path, environ: Mapping[str, str]) -> Runtime:
    """Load the configuration, reach the database, check its schema, provision the configured
    therapists' logins and calendars: fail here, not later."""
    source = ConfigSource(path)
    store = open_store(source, environ)
    require_current(store.engine)
    key = secret_key(store, source.current().server.secret_key_env, environ)
    provision_therapists(store, source.current())
    return Runtime(
        config_source=source, store=store, secret_key=key, clock=utc_now, environ=environ
    )


def wsgi_app(runtime: Runtime) -> Dispatcher:
    config = runtime.config
    server = config.server
    dav = make_application(
        runtime.store,
        server.data_dir,
        server.max_request_bytes,
        server.max_resource_bytes,
        timezone=lambda: runtime.config.practice.tz,
        secret_key=runtime.secret_key,
    )
    # `build_runtime` provisioned this configuration; a changed one is provisioned on the
    # next request, in every process (each watches the file).
    provisioning = ProvisionOnChange(
        runtime.config_source, runtime.store, provisioned=runtime.config
    )
    return Dispatcher(
        dav, create_app(runtime), server.max_request_bytes, on_request=provisioning.check
    )


def make_wsgi_app() -> Dispatcher:
    """For external WSGI servers (gunicorn): configuration from CALDAV_BRIDGE_CONFIG."""
    return wsgi_app(build_runtime(config_path(None, os.environ), os.environ))

"""What a running process shares: the configuration, the store, the clock, the secret key,
and the environment the entry point was started with (where the secrets the configuration
names are; the admin panel's test messages use it).

Built once by an entry point (`bridge_server`) and passed down; nothing below reads the
environment or the clock on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from caldav_bridge.config import Config
from caldav_bridge.config_source import ConfigSource
from caldav_bridge.store import Store


@dataclass(frozen=True)
class Runtime:
    config_source: ConfigSource
    store: Store
    secret_key: str
    clock: Callable[[], datetime]
    environ: Mapping[str, str] = field(default_factory=dict)

    @property
    def config(self) -> Config:
        return self.config_source.current()

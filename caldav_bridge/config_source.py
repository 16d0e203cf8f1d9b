"""The configuration as the running processes see it: reloaded when the file changes.

A hand edit of ``practice.toml`` takes effect without a restart: `current()` reads the file at
most once per `interval` and reloads it when its content changed (content, not modification
time: a same-size edit within one timestamp tick must not be missed; the file is small).
A reload that fails keeps the last good configuration and records the error, so a typo in the
file never takes the practice offline; `check-config` and the admin panel show the error.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from caldav_bridge.config import Config
from caldav_bridge.config_loader import load_config
from caldav_bridge.errors import ConfigError

log = logging.getLogger(__name__)


class ConfigSource:
    def __init__(
        self,
        path: Path,
        *,
        interval: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.interval = interval
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._signature = self._stat()
        self._config = load_config(path)  # a bad file at start-up is fatal: raise
        self._checked = monotonic()
        self.last_error: ConfigError | None = None

    def _stat(self) -> str:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()
        except OSError:
            return ""

    def current(self) -> Config:
        if self._monotonic() - self._checked < self.interval:
            return self._config
        return self.refresh()

    def refresh(self) -> Config:
        """Check the file now, whatever the interval (e.g. right after this process wrote it)."""
        with self._lock:
            self._checked = self._monotonic()
            signature = self._stat()
            if signature != self._signature:
                self._signature = signature
                self._reload()
            return self._config

    def _reload(self) -> None:
        try:
            self._config = load_config(self.path)
            self.last_error = None
            log.info("configuration reloaded from %s", self.path)
        except ConfigError as exc:
            self.last_error = exc
            log.error("configuration not reloaded, keeping the previous one: %s", exc)

"""A background loop (the watcher inside `serve`): one pass per interval until stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

log = logging.getLogger(__name__)


class BackgroundLoop:
    def __init__(
        self,
        name: str,
        step: Callable[[datetime], None],
        clock: Callable[[], datetime],
        interval: float,
    ) -> None:
        self.name = name
        self.step = step
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step(self.clock())
            except Exception:  # a failed pass is logged and retried at the next interval
                log.exception("%s: pass failed", self.name)
            self._stop.wait(self.interval)

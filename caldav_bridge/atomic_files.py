"""Replacing a configuration file safely: one writer at a time, readers never see half a file.

Used for ``practice.toml`` (`config_writer`) and the message templates the admin panel
overrides (`notify.template_files`). Writers in different processes are serialised by a lock
file next to the file (``.<name>.lock``); the new text is written to a temporary file in the
same folder, flushed to disk and renamed over the old one, so a reader sees the old file or
the new one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the lock of ``path`` (a file or a folder) for the duration of the block."""
    lock_path = path.with_name(f".{path.name}.lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def replace_text(path: Path, text: str, mode: int | None = None) -> None:
    """Write ``text`` to ``path`` atomically, keeping the file's permissions (``mode`` for a
    new file; 0o644 without one)."""
    if path.exists():
        mode = path.stat().st_mode & 0o777
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644 if mode is None else mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise

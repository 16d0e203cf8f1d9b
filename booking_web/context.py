"""Access to the process's runtime from a view."""

from __future__ import annotations

from flask import current_app

from caldav_bridge.runtime import Runtime


def runtime() -> Runtime:
    found = current_app.extensions["runtime"]
    assert isinstance(found, Runtime)
    return found

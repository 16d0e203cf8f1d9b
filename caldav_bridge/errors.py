"""One exception hierarchy for the domain; adapters translate it at their boundary."""

from __future__ import annotations


class BridgeError(Exception):
    """Base class of every error the domain raises on purpose."""


class ConfigError(BridgeError):
    """The configuration file is unreadable or invalid.

    Carries the file, the dotted key, the offending value and what was expected, so that the
    one-line message names all four.
    """

    def __init__(self, path: str, key: str, problem: str) -> None:
        self.path = path
        self.key = key
        self.problem = problem
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {problem}")


class StoreError(BridgeError):
    """The database is unreachable or in an unexpected state."""


class ICalendarError(BridgeError):
    """iCalendar text that we refuse to store or cannot interpret."""


class LoginError(BridgeError):
    """A login that does not exist, or a password that is not acceptable."""

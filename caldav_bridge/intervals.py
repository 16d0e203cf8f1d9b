"""Half-open intervals of aware datetimes: the currency of busy time and open periods.

Python compares and subtracts two datetimes that share a ``tzinfo`` by their wall-clock
readings, ignoring the UTC offset and ``fold``: around a DST change ``02:30 CEST`` and
``02:30 CET`` compare equal. Every comparison here therefore goes through :func:`as_utc`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def as_utc(moment: datetime) -> datetime:
    """The same instant in UTC; refuses naive datetimes, whose instant is unknown."""
    if moment.utcoffset() is None:
        raise ValueError(f"aware datetime needed, got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


@dataclass(frozen=True, order=True, slots=True)
class Interval:
    """``[start, end)`` between two aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.utcoffset() is None or self.end.utcoffset() is None:
            raise ValueError("Interval needs aware datetimes")
        if as_utc(self.end) < as_utc(self.start):
            raise ValueError(f"Interval ends before it starts: {self.start} > {self.end}")

    def overlaps(self, other: Interval) -> bool:
        return as_utc(self.start) < as_utc(other.end) and as_utc(other.start) < as_utc(self.end)

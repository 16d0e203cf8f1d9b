"""vobject's time zone registry, made the same for every request: IANA names are zoneinfo.

Radicale reads calendar objects with vobject to filter time ranges, expand recurrences and
answer free-busy. vobject keeps ONE process-wide map from TZID to tzinfo, filled by whatever
it reads first: the VTIMEZONE of the first object with that TZID, or, for an object without
one, a pytz zone. With a pytz zone, dateutil's recurrence rules keep the UTC offset of the
first occurrence, so after the object of some other calendar app had been read, a weekly
Europe/Zurich event was answered an hour off after the autumn DST change and a moved
occurrence (RECURRENCE-ID) no longer replaced the original one. Which answer a client got
depended on what the process had read before.

`use_zoneinfo_for_iana_names` registers zoneinfo for every IANA name when a storage starts
(replacing whatever was registered before; afterwards vobject only adds names it lacks), the
same policy as `caldav_bridge.ical`: an IANA
name means the IANA rules, not the client's copy of them. Other TZIDs (Outlook's Windows
names, custom zones) still come from the object's VTIMEZONE.
"""

from __future__ import annotations

import functools
import zoneinfo
from datetime import datetime, timedelta

from vobject import icalendar as vobject_icalendar


class NamedZone(zoneinfo.ZoneInfo):
    """A zoneinfo zone as vobject expects a tzinfo: it writes it back under its IANA name (it
    reads ``zone``), and, when it writes a VTIMEZONE for an object that had none, it probes
    naive wall times and expects a time in a DST gap or fold to be in the later regime (PEP
    495 ``fold=1``). Aware datetimes, all the rest of the process uses, are unchanged.

    Writing one VTIMEZONE probes some 4,000 naive times, the same ones every time (its years
    2000 to 2030): the answers for naive times are kept (`_naive_offsets`), which makes that
    3 times faster (an expanded REPORT writes one per event without its own VTIMEZONE)."""

    @property
    def zone(self) -> str:
        return self.key

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None or dt.tzinfo is not None:
            return super().utcoffset(dt)
        return _naive_offsets(self, dt)[0]

    def dst(self, dt: datetime | None) -> timedelta | None:
        if dt is None or dt.tzinfo is not None:
            return super().dst(dt)
        return _naive_offsets(self, dt)[1]

    def tzname(self, dt: datetime | None) -> str | None:
        if dt is None or dt.tzinfo is not None:
            return super().tzname(dt)
        return _naive_offsets(self, dt)[2]


@functools.lru_cache(maxsize=1 << 16)
def _naive_offsets(
    zone: NamedZone, dt: datetime
) -> tuple[timedelta | None, timedelta | None, str | None]:
    """UTC offset, DST offset and name of a naive wall time, in the later regime."""
    later = dt.replace(fold=1)
    parent = zoneinfo.ZoneInfo
    return parent.utcoffset(zone, later), parent.dst(zone, later), parent.tzname(zone, later)


def use_zoneinfo_for_iana_names() -> int:
    """Register every IANA zone in vobject's TZID map; returns how many. A few ms."""
    names = sorted(zoneinfo.available_timezones())
    for name in names:
        vobject_icalendar.registerTzid(name, NamedZone(name))
    return len(names)

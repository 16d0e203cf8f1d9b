"""What a CalDAV PUT may store (``parse_calendar``).

Real client output is accepted; anything the bridge could not interpret later is refused with
a short English reason, which the therapist's calendar app shows as the upload error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from caldav_bridge.errors import ICalendarError
from caldav_bridge.ical import calendar_items, load_calendar, parse_calendar, time_of

ZURICH = ZoneInfo("Europe/Zurich")


def at(local: str) -> datetime:
    """``"2026-03-30 14:00"`` in Zurich."""
    return datetime.strptime(local, "%Y-%m-%d %H:%M").replace(tzinfo=ZURICH)


def vcalendar(*lines: str) -> str:
    """A VCALENDAR around ``lines`` (components written out in full), CRLF like a client."""
    return "\r\n".join(
        ("BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//tests//EN", *lines, "END:VCALENDAR", "")
    )


def vevent(*properties: str, uid: str = "a@test") -> tuple[str, ...]:
    return ("BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260301T000000Z", *properties, "END:VEVENT")


def event(*properties: str) -> str:
    """One VEVENT with UID and DTSTAMP plus ``properties``, in a VCALENDAR."""
    return vcalendar(*vevent(*properties))


def starts(text: str | bytes) -> list[datetime]:
    """DTSTART of each component of the accepted object, in Zurich time."""
    found = []
    for item in calendar_items(parse_calendar(text)):
        start = time_of(item, "DTSTART")
        assert isinstance(start, datetime)
        found.append(start.astimezone(ZURICH))
    return found


# The calendars of tests/data/calendars, each shaped like one client's output, and the title
# the therapist sees for it.
CLIENT_OUTPUT = {
    # Apple Calendar (macOS 15): weekly series, EXDATE, a moved occurrence, X-APPLE-*, VALARM,
    # and Apple's empty "URL;VALUE=URI:".
    "apple_weekly_supervision.ics": "Supervision",
    # Apple Calendar (iOS 18): weekly series with one occurrence cancelled by an override.
    "apple_cancelled_occurrence.ics": "Gruppentherapie",
    # Thunderbird: X-MOZ-*, VALARM, weekly series ending by UNTIL, last occurrence moved later.
    "thunderbird_intervision_until.ics": "Intervision",
    # DAVx5 (Android): all-day holidays over the October DST change.
    "davx5_holidays_autumn.ics": "Ferien",
    # DAVx5 (Android): an all-day training on the March DST Sunday.
    "davx5_allday_dst_spring.ics": "Weiterbildung Traumatherapie",
    # DAVx5 (Android): a TRANSPARENT reminder with a German-named VTIMEZONE.
    "davx5_transparent_reminder.ics": "Abrechnung Krankenkasse",
    # A practice-software export in floating time (no TZID, no Z) with DURATION.
    "floating_time_export.ics": "Erstgespräch",
    # A Google invitation in America/New_York, weekly with COUNT, folded ATTENDEE line.
    "google_new_york_weekly.ics": "Case consultation (video)",
    # Evolution: COUNT series plus RDATEs, one after the last RRULE occurrence.
    "evolution_rdate_extra_sessions.ics": "Elterngruppe",
    # Outlook: Windows TZID "W. Europe Standard Time" (quoted), X-MICROSOFT-*.
    "outlook_windows_tzid.ics": "Qualitätszirkel",
}


@pytest.mark.parametrize(("name", "title"), CLIENT_OUTPUT.items())
def test_client_output_is_accepted(
    calendar_bytes: Callable[[str], bytes], name: str, title: str
) -> None:
    calendar = parse_calendar(calendar_bytes(name))
    assert {str(item["SUMMARY"]) for item in calendar_items(calendar)} == {title}


def test_text_with_bare_lf_or_crlf_and_as_str_or_bytes_is_read_the_same(
    calendar_bytes: Callable[[str], bytes],
) -> None:
    raw = calendar_bytes("apple_weekly_supervision.ics")
    crlf = raw.replace(b"\n", b"\r\n")
    for text in (raw, crlf, raw.decode(), crlf.decode()):
        assert starts(text) == [at("2026-03-05 10:00"), at("2026-04-03 14:00")]


def test_an_outlook_windows_time_zone_gives_the_local_time_outlook_showed() -> None:
    # Outlook's VTIMEZONE is in the file (see outlook_windows_tzid.ics); here it is missing,
    # and icalendar maps the Windows name to Europe/Berlin.
    text = event(
        'DTSTART;TZID="W. Europe Standard Time":20260331T130000',
        'DTEND;TZID="W. Europe Standard Time":20260331T140000',
    )
    assert starts(text) == [at("2026-03-31 13:00")]


def customized_zone(offset: str) -> str:
    """An Outlook object whose VTIMEZONE has no real name, with an event at 10:00 local."""
    return vcalendar(
        "BEGIN:VTIMEZONE",
        "TZID:Customized Time Zone",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        f"TZOFFSETFROM:{offset}",
        f"TZOFFSETTO:{offset}",
        "END:STANDARD",
        "END:VTIMEZONE",
        *vevent(
            "DTSTART;TZID=Customized Time Zone:20260320T100000",
            "DTEND;TZID=Customized Time Zone:20260320T110000",
        ),
    )


def test_each_object_keeps_its_own_definition_of_a_custom_time_zone_name() -> None:
    # icalendar caches VTIMEZONEs with unknown names process-wide, first one wins: a second
    # practice using the same name with another offset must not get the first one's times.
    assert starts(customized_zone("+0100")) == [at("2026-03-20 10:00")]
    assert starts(customized_zone("-0500")) == [at("2026-03-20 16:00")]
    reread = load_calendar(customized_zone("-0500"))
    assert time_of(reread.walk("VEVENT")[0], "DTSTART") == at("2026-03-20 16:00")


ACCEPTED = [
    pytest.param(event("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY"), id="infinite series"),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=DAILY;COUNT=5000"), id="COUNT at the limit"
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=HOURLY;UNTIL=20260331T000000Z"),
        id="hourly with UNTIL",
    ),
    pytest.param(
        event("DTSTART;VALUE=DATE:20280229", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        id="every 29 February",
    ),
    pytest.param(
        vcalendar(
            *vevent("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY"),
            *vevent("RECURRENCE-ID:20260406T100000Z", "DTSTART:20260407T100000Z"),
        ),
        id="override of the same UID",
    ),
    pytest.param(event("DTSTART;TZID=UTC:20260330T100000"), id="TZID=UTC"),
    pytest.param(event("DTSTART:20260330T100000Z", "X-FOO;VALUE=DATE:never"), id="broken X-"),
    pytest.param(
        vcalendar("BEGIN:VTODO", "UID:t@test", "DTSTAMP:20260301T000000Z", "END:VTODO"),
        id="VTODO without dates",
    ),
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_accepted(text: str) -> None:
    assert calendar_items(parse_calendar(text))


REFUSED = [
    pytest.param("hello world", "not parseable as iCalendar", id="not iCalendar"),
    pytest.param(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", "not parseable as iCalendar", id="never ends"
    ),
    pytest.param(
        "\r\n".join(vevent("DTSTART:20260330T100000Z")), "not a VCALENDAR object", id="bare VEVENT"
    ),
    pytest.param(
        vcalendar(),
        "no component: the object has no VEVENT, VTODO or VJOURNAL",
        id="empty VCALENDAR",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", *["BEGIN:X-A"] * 3, *["END:X-A"] * 3),
        "components nested too deeply",
        id="nested too deeply",
    ),
    pytest.param(event("SUMMARY:Mittag"), "a VEVENT without DTSTART", id="no DTSTART"),
    pytest.param(
        event("DTSTART:20261301T100000Z"), "VEVENT has an unreadable DTSTART", id="month 13"
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "DTEND:20260330T090000Z"),
        "DTEND before DTSTART in a VEVENT",
        id="ends before it starts",
    ),
    pytest.param(
        event(
            "DTSTART;TZID=Europe/Zurich:20260330T100000",
            "DTEND;TZID=America/New_York:20260330T035900",  # 09:59 in Zurich
        ),
        "DTEND before DTSTART in a VEVENT",
        id="ends before it starts, across zones",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "DTEND:20260330T110000Z", "DURATION:PT1H"),
        "a VEVENT with both DTEND and DURATION",
        id="DTEND and DURATION",
    ),
    pytest.param(
        event("DTSTART;VALUE=DATE:20260330", "DURATION:PT1H"),
        "an all-day VEVENT with a DURATION that is not whole days",
        id="all-day for one hour",
    ),
    pytest.param(
        event("DTSTART;VALUE=DATE:20260330", "DTEND:20260331T100000Z"),
        "DTSTART and DTEND of a VEVENT mix DATE and DATE-TIME",
        id="DATE and DATE-TIME",
    ),
    pytest.param(
        vcalendar(
            *vevent("DTSTART:20260330T100000Z", uid="a@test"),
            *vevent("DTSTART:20260331T100000Z", uid="b@test"),
        ),
        "mixed UIDs in one object",
        id="two UIDs",
    ),
    pytest.param(
        vcalendar(
            *vevent("DTSTART:20260330T100000Z", "RECURRENCE-ID:20260330T100000Z", uid="a@test"),
            *vevent("DTSTART:20260331T100000Z", "RECURRENCE-ID:20260331T100000Z", uid="b@test"),
        ),
        "mixed UIDs in one object",
        id="overrides of two UIDs",
    ),
    pytest.param(
        vcalendar(*vevent("DTSTART:20260330T100000Z"), *vevent("DTSTART:20260331T100000Z")),
        "several VEVENTs with the same UID and no RECURRENCE-ID",
        id="two masters",
    ),
    pytest.param(
        vcalendar(
            *vevent("DTSTART:20260330T100000Z"),
            "BEGIN:VTODO",
            "UID:a@test",
            "DTSTAMP:20260301T000000Z",
            "END:VTODO",
        ),
        "mixed component types in one object: VEVENT, VTODO",
        id="VEVENT and VTODO",
    ),
    pytest.param(
        vcalendar("BEGIN:VEVENT", "DTSTART:20260330T100000Z", "END:VEVENT"),
        "a VEVENT without UID",
        id="no UID",
    ),
    pytest.param(
        event("DTSTART;TZID=Mars/Olympus_Mons:20260330T100000"),
        "unknown time zone: TZID=Mars/Olympus_Mons",
        id="unknown TZID",
    ),
    pytest.param(
        vcalendar("X-WR-TIMEZONE:Atlantis/Capital", *vevent("DTSTART:20260330T100000Z")),
        "unknown time zone: X-WR-TIMEZONE=Atlantis/Capital",
        id="unknown X-WR-TIMEZONE",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=DAILY;COUNT=5001"),
        "RRULE COUNT=5001 is above the limit of 5000",
        id="COUNT above the limit",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=MINUTELY;COUNT=10"),
        "RRULE FREQ=MINUTELY is not accepted: it repeats too often",
        id="MINUTELY",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=SECONDLY"),
        "RRULE FREQ=SECONDLY is not accepted: it repeats too often",
        id="SECONDLY",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY;COUNT=3;UNTIL=20260501T000000Z"),
        "an RRULE with both COUNT and UNTIL",
        id="COUNT and UNTIL",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY;INTERVAL=0"),
        "RRULE INTERVAL=0 is out of range",
        id="INTERVAL=0 (dateutil would loop forever)",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=MONTHLY;BYMONTHDAY=32"),
        "RRULE BYMONTHDAY=32 is out of range",
        id="day 32",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30"),
        "an RRULE that never occurs (BYMONTHDAY not in BYMONTH)",
        id="30 February",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY;BYSETPOS=0"),
        "RRULE BYSETPOS=0 is out of range",
        id="BYSETPOS=0",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY;BYDAY=XX"),
        "VEVENT has an unreadable RRULE",
        id="unknown weekday",
    ),
    pytest.param(
        event("DTSTART:20260330T100000Z", "RRULE:COUNT=3"), "an RRULE without FREQ", id="no FREQ"
    ),
]


@pytest.mark.parametrize(("text", "reason"), REFUSED)
def test_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(ICalendarError) as refused:
        parse_calendar(text)
    assert str(refused.value) == reason


def test_too_large_is_refused_before_parsing() -> None:
    padding = "X-PADDING:" + "x" * 70
    text = event("DTSTART:20260330T100000Z", *[padding] * 20)
    assert parse_calendar(text, max_size=len(text))
    with pytest.raises(ICalendarError, match=r"^too large: more than 1000 bytes$"):
        parse_calendar(text, max_size=1000)
    with pytest.raises(ICalendarError, match=r"^too large: more than 1000000 bytes$"):
        parse_calendar(text + " " * 1_000_000)


def test_the_count_limit_is_a_parameter() -> None:
    text = event("DTSTART:20260330T100000Z", "RRULE:FREQ=WEEKLY;COUNT=53")
    assert parse_calendar(text, max_count=53)
    with pytest.raises(ICalendarError, match=r"^RRULE COUNT=53 is above the limit of 52$"):
        parse_calendar(text, max_count=52)


def test_load_calendar_refuses_text_that_is_not_icalendar() -> None:
    with pytest.raises(ICalendarError, match=r"^not parseable as iCalendar"):
        load_calendar(b"\xff\xfe garbage")


def test_a_windows_zone_name_means_its_iana_zone_whatever_another_object_defined() -> None:
    # One object defines "Romance Standard Time" oddly; icalendar would reuse that definition
    # for every later object that only names the zone.
    odd = vcalendar(
        "BEGIN:VTIMEZONE",
        "TZID:Romance Standard Time",
        "BEGIN:STANDARD",
        "DTSTART:16010101T000000",
        "TZOFFSETFROM:-0500",
        "TZOFFSETTO:-0500",
        "END:STANDARD",
        "END:VTIMEZONE",
        *vevent("DTSTART;TZID=Romance Standard Time:20260320T100000"),
    )
    assert starts(odd) == [at("2026-03-20 16:00")]
    named = event("DTSTART;TZID=Romance Standard Time:20260320T100000")  # Europe/Paris
    assert starts(named) == [at("2026-03-20 10:00")]

"""Delivery rules without a network: retry timing, how provider answers are classified, the
HTML part's links, and dates per language."""

from __future__ import annotations

from datetime import datetime, timedelta
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.base.exceptions import TwilioRestException  # type: ignore[import-untyped]

from caldav_bridge.notify.formatting import minutes, short_date, when
from caldav_bridge.notify.messages import Email
from caldav_bridge.notify.mime import email_message
from caldav_bridge.notify.outbox import MAX_ATTEMPTS, backoff
from caldav_bridge.notify.senders import (
    PermanentFailure,
    TemporaryFailure,
    smtp_failure,
    twilio_failure,
)
from caldav_bridge.notify.templates import Segment, paragraphs

ZURICH = ZoneInfo("Europe/Zurich")


def test_retries_back_off_exponentially_up_to_an_hour() -> None:
    waits = [backoff(n) for n in range(1, MAX_ATTEMPTS + 1)]
    assert waits[:5] == [timedelta(seconds=s) for s in (30, 60, 120, 240, 480)]
    assert waits[-1] == timedelta(hours=1)
    assert sum(waits, timedelta()) > timedelta(hours=4)  # an afternoon's outage is survived


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (550, PermanentFailure),  # mailbox unavailable: a bounce
        (553, PermanentFailure),
        (554, PermanentFailure),
        (421, TemporaryFailure),  # service not available
        (450, TemporaryFailure),
        (451, TemporaryFailure),
        (452, TemporaryFailure),
        (535, TemporaryFailure),  # our credentials: fix them, then the messages go out
        (530, TemporaryFailure),  # authentication required: the same
    ],
)
def test_smtp_answers(code: int, kind: type) -> None:
    failure = smtp_failure(code, b"5.1.1 <zoe@example.org>: Recipient address rejected")
    assert isinstance(failure, kind)
    assert failure.code == f"smtp {code}"
    assert "zoe@example.org" not in failure.code  # the log line's part
    assert "zoe@example.org" in failure.reason  # the delivery log's part


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, 21211, PermanentFailure),  # invalid 'To' number
        (400, 21614, PermanentFailure),  # not a mobile number (a landline)
        (400, 21610, PermanentFailure),  # the recipient replied STOP
        (400, 21408, PermanentFailure),  # region not enabled
        (500, 20500, TemporaryFailure),
        (503, 20503, TemporaryFailure),
        (429, 20429, TemporaryFailure),  # too many requests
        (401, 20003, TemporaryFailure),  # our credentials
    ],
)
def test_twilio_answers(status: int, code: int, kind: type) -> None:
    failure = twilio_failure(TwilioRestException(status, "/Messages.json", "why", code, "POST"))
    assert isinstance(failure, kind)


def test_html_paragraphs_keep_lines_and_make_links() -> None:
    text = "Bonjour Zoë,\n\nDate : demain\nLien : https://cabinet.example/manage/a.b-c_d\n\n\nFin\n"
    assert paragraphs(text) == [
        [[Segment("Bonjour Zoë,")]],
        [
            [Segment("Date : demain")],
            [
                Segment("Lien : "),
                Segment(
                    "https://cabinet.example/manage/a.b-c_d",
                    "https://cabinet.example/manage/a.b-c_d",
                ),
            ],
        ],
        [[Segment("Fin")]],
    ]


@pytest.mark.parametrize(
    ("language", "date", "time", "duration", "short"),
    [
        ("fr", "dimanche, 29 mars 2026", "10:30", "75 min", "dim. 29 mars"),
        ("de", "Sonntag, 29. März 2026", "10:30", "75 Min.", "So. 29 März"),
        ("it", "domenica, 29 marzo 2026", "10:30", "75 min", "dom 29 mar"),
        ("en", "Sunday, 29 March 2026", "10:30", "75 min", "Sun 29 Mar"),
    ],
)
def test_times_per_language_in_the_practices_zone_on_a_dst_day(
    language: str, date: str, time: str, duration: str, short: str
) -> None:
    start = datetime(2026, 3, 29, 10, 30, tzinfo=ZURICH)  # the spring-forward day
    shown = when(start, start + timedelta(minutes=75), language, ZURICH)
    assert (shown.date, shown.time, shown.end_time, shown.duration) == (
        date,
        time,
        "11:45",
        duration,
    )
    assert short_date(start, language, ZURICH) == short
    assert minutes(timedelta(hours=1, minutes=15), language) == duration


@given(words=st.lists(st.text(alphabet="aéöüàçÆ ßz,:–", min_size=1, max_size=12), max_size=12))
def test_a_long_accented_subject_arrives_word_for_word(words: list[str]) -> None:
    """Python's header folder drops a space between two encoded words ("mercredi,2 déc.");
    the subject must reach the reader exactly as composed (whitespace collapsed)."""
    subject = " ".join(" ".join(words).split()) or "x"
    content = Email(subject=subject, text="Bonjour\n", html="<p>Bonjour</p>")
    raw = email_message(
        content,
        sender="Cabinet du Lac <rdv@cabinet.example>",
        recipient="zoe@example.org",
        key="k",
        reply_to="",
        date=datetime(2026, 12, 2, 15, 15, tzinfo=ZURICH),
    ).as_bytes()
    assert all(len(line) <= 78 for line in raw.split(b"\r\n\r\n")[0].split(b"\r\n"))
    parsed = message_from_bytes(raw, policy=policy.default)
    assert str(parsed["Subject"]) == subject

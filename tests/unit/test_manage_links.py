"""Manage links: signed, bound to one appointment version, expiring."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer

from caldav_bridge.manage_links import (
    InvalidLinkError,
    LinkTarget,
    manage_link_max_age,
    manage_token,
    manage_url,
    read_manage_token,
)

KEY = "a-secret-key-for-tests"
DAY = timedelta(days=1)


def test_a_token_names_the_appointment_and_its_version() -> None:
    token = manage_token(KEY, "uid-1", 3)
    assert read_manage_token(KEY, token, DAY) == LinkTarget("uid-1", 3)


def test_a_url_carries_the_token_under_the_public_address() -> None:
    url = manage_url("https://rdv.example.ch/", KEY, "uid-1", 1)
    assert url.startswith("https://rdv.example.ch/manage/")
    token = url.rsplit("/", 1)[1]
    assert read_manage_token(KEY, token, DAY).uid == "uid-1"


@pytest.mark.parametrize(
    "token",
    [
        manage_token("another-key", "uid-1", 1),  # signed by someone else
        manage_token(KEY, "uid-1", 1)[:-2] + "xx",  # damaged
        "not-a-token",
        URLSafeTimedSerializer(KEY, salt="caldav-bridge.manage-link").dumps(
            ["uid-1", 1]
        ),  # wrong shape
    ],
)
def test_forged_or_damaged_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidLinkError) as caught:
        read_manage_token(KEY, token, DAY)
    assert not caught.value.expired


def test_an_old_token_expires() -> None:
    token = manage_token(KEY, "uid-1", 1)
    with pytest.raises(InvalidLinkError) as caught:
        read_manage_token(KEY, token, timedelta(seconds=-1))
    assert caught.value.expired


def test_links_outlive_the_booking_horizon() -> None:
    assert manage_link_max_age(timedelta(days=90)) == timedelta(days=121)

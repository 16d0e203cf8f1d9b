"""Signed links that let a patient see, modify or cancel one appointment.

A token names one appointment and its version: any change bumps the version, so the link in an
older email then says the appointment changed. Tokens are signed with the secret key, carry
their creation time, and expire (`max_age`), so an old link cannot be replayed forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from caldav_bridge.errors import BridgeError

_SALT = "caldav-bridge.manage-link"


class InvalidLinkError(BridgeError):
    """The token is forged, damaged, or expired (``expired`` tells which)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("expired link" if expired else "invalid link")
        self.expired = expired


@dataclass(frozen=True)
class LinkTarget:
    uid: str
    version: int


def manage_token(secret_key: str, uid: str, version: int) -> str:
    return URLSafeTimedSerializer(secret_key, salt=_SALT).dumps({"u": uid, "v": version})


def read_manage_token(secret_key: str, token: str, max_age: timedelta) -> LinkTarget:
    serializer = URLSafeTimedSerializer(secret_key, salt=_SALT)
    try:
        data = serializer.loads(token, max_age=int(max_age.total_seconds()))
    except SignatureExpired as exc:
        raise InvalidLinkError(expired=True) from exc
    except BadSignature as exc:
        raise InvalidLinkError(expired=False) from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("u"), str)
        or not isinstance(data.get("v"), int)
    ):
        raise InvalidLinkError(expired=False)
    return LinkTarget(uid=data["u"], version=data["v"])


def manage_url(public_url: str, secret_key: str, uid: str, version: int) -> str:
    """The patient's link to see, modify or cancel one appointment (in emails and SMS)."""
    return f"{public_url.rstrip('/')}/manage/{manage_token(secret_key, uid, version)}"


def manage_link_max_age(horizon: timedelta) -> timedelta:
    """How long a manage link works: the booking horizon plus a month."""
    return horizon + timedelta(days=31)

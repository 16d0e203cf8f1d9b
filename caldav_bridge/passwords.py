"""Password hashing (argon2id) and generation."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from caldav_bridge.errors import LoginError

MIN_LENGTH = 10
MAX_LENGTH = 256
# Letters and digits that cannot be confused when read aloud or copied from a screen.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory profile
# Verified against when a login does not exist, so that a miss costs as much as a hit.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True if ``password`` matches; a missing hash costs the same time and fails."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password(groups: int = 4) -> str:
    """A random password like ``k7Qm-Xa3p-Rt9w-Hn2e`` (about 95 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(groups))


def check_acceptable(password: str) -> None:
    """Raise `LoginError` if ``password`` is too weak or malformed to be set."""
    if len(password) < MIN_LENGTH:
        raise LoginError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise LoginError(f"a password may have at most {MAX_LENGTH} characters")
    if any(ch in password for ch in "\r\n\x00"):
        raise LoginError("a password may not contain line breaks or NUL characters")

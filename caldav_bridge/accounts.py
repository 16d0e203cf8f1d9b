"""Account use-cases: provisioning logins from the configuration, passwords, authentication."""

from __future__ import annotations

from dataclasses import dataclass

from caldav_bridge.config import Config
from caldav_bridge.errors import LoginError
from caldav_bridge.passwords import (
    check_acceptable,
    generate_password,
    hash_password,
    verify_password,
)
from caldav_bridge.store import Store, User

ADMIN = "admin"


@dataclass(frozen=True)
class Provisioned:
    """What `provision_accounts` did, for the CLI to report."""

    admin_password: str | None  # set when it was generated or given now
    created: tuple[str, ...]


def provision_accounts(
    store: Store, config: Config, admin_password: str | None = None
) -> Provisioned:
    """Ensure the admin and every configured therapist have a login.

    The admin gets ``admin_password`` or, if it has none yet, a generated one (returned once).
    Therapists are created without a password: the admin or `passwd` sets it.
    """
    if admin_password is not None:
        check_acceptable(admin_password)
    created: list[str] = []
    with store.write() as tx:
        for login, role in [(ADMIN, "admin"), *((t, "therapist") for t in config.therapists)]:
            if tx.user(login) is None:
                created.append(login)
            tx.ensure_user(login, role)  # type: ignore[arg-type]
        admin = tx.user(ADMIN)
        assert admin is not None
        if admin_password is None and admin.password_hash is None:
            admin_password = generate_password()
        if admin_password is not None:
            tx.set_password_hash(ADMIN, hash_password(admin_password))
            tx.audit("cli", "password.set", ADMIN)
    return Provisioned(admin_password=admin_password, created=tuple(created))


def set_password(store: Store, login: str, password: str, actor: str) -> None:
    """Set ``login``'s password (after checking it is acceptable)."""
    check_acceptable(password)
    hashed = hash_password(password)  # outside the transaction: argon2 is slow on purpose
    with store.write() as tx:
        tx.set_password_hash(login, hashed)
        tx.audit(actor, "password.set", login)


def authenticate(store: Store, login: str, password: str) -> User | None:
    """The active user whose password or a live app password matches, else None.

    An unknown login costs one argon2 verification like a known one.
    """
    with store.read() as tx:
        user = tx.user(login)
        app_passwords = tx.app_passwords(login) if user is not None else []
    if user is None or not user.active:
        verify_password(None, password)
        return None
    if verify_password(user.password_hash, password):
        return user
    for app_password in app_passwords:
        if verify_password(app_password.password_hash, password):
            with store.write() as tx:
                tx.touch_app_password(app_password.id)
            return user
    return None


def require_user(store: Store, login: str) -> User:
    with store.read() as tx:
        user = tx.user(login)
    if user is None:
        raise LoginError(f"no login {login!r}; known logins are created by `caldav-bridge init`")
    return user

"""Logins (therapists and the admin) and their per-device app passwords."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa

from caldav_bridge.errors import LoginError
from caldav_bridge.store.schema import app_passwords, users
from caldav_bridge.store.transaction import TxBase

Role = Literal["admin", "therapist"]


@dataclass(frozen=True)
class User:
    id: int
    login: str
    role: Role
    password_hash: str | None
    active: bool


@dataclass(frozen=True)
class AppPassword:
    id: int
    label: str
    password_hash: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class UserQueries(TxBase):
    def user(self, login: str) -> User | None:
        row = self.conn.execute(sa.select(users).where(users.c.login == login)).first()
        return _user(row) if row else None

    def users(self) -> list[User]:
        rows = self.conn.execute(sa.select(users).order_by(users.c.login))
        return [_user(row) for row in rows]

    def ensure_user(self, login: str, role: Role) -> User:
        """The user ``login``, created (without a password) if missing."""
        found = self.user(login)
        if found is not None:
            if found.role != role:
                raise LoginError(f"login {login!r} exists with role {found.role!r}, not {role!r}")
            return found
        now = self.now()
        self.conn.execute(
            users.insert().values(
                login=login,
                role=role,
                password_hash=None,
                active=True,
                created_at=now,
                updated_at=now,
            )
        )
        created = self.user(login)
        assert created is not None
        return created

    def set_password_hash(self, login: str, password_hash: str) -> None:
        result = self.conn.execute(
            users.update()
            .where(users.c.login == login)
            .values(password_hash=password_hash, updated_at=self.now())
        )
        if result.rowcount != 1:
            raise LoginError(f"no login {login!r}")

    def set_active(self, login: str, active: bool) -> None:
        result = self.conn.execute(
            users.update()
            .where(users.c.login == login)
            .values(active=active, updated_at=self.now())
        )
        if result.rowcount != 1:
            raise LoginError(f"no login {login!r}")

    def add_app_password(self, login: str, label: str, password_hash: str) -> int:
        found = self.user(login)
        if found is None:
            raise LoginError(f"no login {login!r}")
        result = self.conn.execute(
            app_passwords.insert().values(
                user_id=found.id, label=label, password_hash=password_hash, created_at=self.now()
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def app_passwords(self, login: str, *, include_revoked: bool = False) -> list[AppPassword]:
        query = (
            sa.select(app_passwords)
            .join(users, users.c.id == app_passwords.c.user_id)
            .where(users.c.login == login)
            .order_by(app_passwords.c.id)
        )
        if not include_revoked:
            query = query.where(app_passwords.c.revoked_at.is_(None))
        return [
            AppPassword(
                id=row.id,
                label=row.label,
                password_hash=row.password_hash,
                created_at=row.created_at,
                last_used_at=row.last_used_at,
                revoked_at=row.revoked_at,
            )
            for row in self.conn.execute(query)
        ]

    def revoke_app_password(self, login: str, password_id: int) -> bool:
        """Revoke one of ``login``'s app passwords; False if it is not theirs or already revoked."""
        owner = sa.select(users.c.id).where(users.c.login == login).scalar_subquery()
        result = self.conn.execute(
            app_passwords.update()
            .where(
                app_passwords.c.id == password_id,
                app_passwords.c.user_id == owner,
                app_passwords.c.revoked_at.is_(None),
            )
            .values(revoked_at=self.now())
        )
        return result.rowcount == 1

    def touch_app_password(self, password_id: int) -> None:
        self.conn.execute(
            app_passwords.update()
            .where(app_passwords.c.id == password_id)
            .values(last_used_at=self.now())
        )


def _user(row: sa.Row[tuple[object, ...]]) -> User:
    return User(
        id=row.id,
        login=row.login,
        role=row.role,
        password_hash=row.password_hash,
        active=row.active,
    )

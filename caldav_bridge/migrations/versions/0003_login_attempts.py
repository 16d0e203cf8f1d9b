"""The login throttle's memory (failures and known-good addresses), shared by every process.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("credential", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_failures_scope_login_at"), ["scope", "login", "at"]
        )
        batch_op.create_index(
            batch_op.f("ix_login_failures_scope_address_at"), ["scope", "address", "at"]
        )
        batch_op.create_index(
            batch_op.f("ix_login_failures_scope_login_address_at"),
            ["scope", "login", "address", "at"],
        )
        batch_op.create_index(batch_op.f("ix_login_failures_at"), ["at"])

    op.create_table(
        "login_known_addresses",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("last_success_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_known_addresses")),
        sa.UniqueConstraint(
            "scope", "login", "address", name=op.f("uq_login_known_addresses_scope_login_address")
        ),
    )
    with op.batch_alter_table("login_known_addresses", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_known_addresses_last_success_at"), ["last_success_at"]
        )


def downgrade() -> None:
    with op.batch_alter_table("login_known_addresses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_known_addresses_last_success_at"))
    op.drop_table("login_known_addresses")
    with op.batch_alter_table("login_failures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_failures_at"))
        batch_op.drop_index(batch_op.f("ix_login_failures_scope_login_address_at"))
        batch_op.drop_index(batch_op.f("ix_login_failures_scope_address_at"))
        batch_op.drop_index(batch_op.f("ix_login_failures_scope_login_at"))
    op.drop_table("login_failures")

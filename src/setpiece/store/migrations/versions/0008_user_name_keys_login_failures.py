"""user name keys and login failures: one member per folded name, lock-outs per address

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 07:40:00.000000

``users.name_key`` holds each name in NFKC, case-folded (``model.names.fold_user_name``,
copied here so that later changes to it do not change this revision), under a unique
index: ``VIC`` can no longer be created beside ``vic``. A database that already holds two
names that fold together is refused before anything is changed, naming them, so an admin
can rename or remove one with the previous Setpiece first (no name is merged or renamed
silently).

``login_failures`` counts failed logins per folded name and client address (it replaces
``users.failed_logins`` and ``users.locked_until``, which stay for older servers).

The column is added with ``ALTER TABLE ... ADD COLUMN`` on both databases (no table copy
on SQLite: a copy of ``users`` would cascade into ``api_tokens``), with a server default
of ``''`` that SQLite requires for a NOT NULL column and PostgreSQL then drops.
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from setpiece.errors import SchemaError

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_USERS = sa.table(
    "users", sa.column("id", sa.Integer()), sa.column("name", sa.String()), sa.column("name_key")
)


def _fold(name: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name.strip()).casefold())


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_USERS.c.id, _USERS.c.name).order_by(_USERS.c.id)).all()
    seen: dict[str, str] = {}
    for _, name in rows:
        key = _fold(name)
        if key in seen:
            raise SchemaError(
                f"users {seen[key]!r} and {name!r} are the same name once case and Unicode "
                "form are ignored: rename or remove one with the previous Setpiece, then "
                "upgrade again"
            )
        seen[key] = name
    op.add_column("users", sa.Column("name_key", sa.String(100), nullable=False, server_default=""))
    for user_id, name in rows:
        bind.execute(_USERS.update().where(_USERS.c.id == user_id).values(name_key=_fold(name)))
    op.create_index(op.f("ix_users_name_key"), "users", ["name_key"], unique=True)
    if bind.dialect.name != "sqlite":
        op.alter_column("users", "name_key", server_default=None)
    op.create_table(
        "login_failures",
        sa.Column("name_key", sa.String(100), nullable=False),
        sa.Column("address", sa.String(100), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name_key", "address", name=op.f("pk_login_failures")),
    )
    op.create_index(op.f("ix_login_failures_last_failed_at"), "login_failures", ["last_failed_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_login_failures_last_failed_at"), table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index(op.f("ix_users_name_key"), table_name="users")
    op.drop_column("users", "name_key")

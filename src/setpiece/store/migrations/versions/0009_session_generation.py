"""sessions that end: a session generation per member, and one-time passwords marked

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 07:40:00.000000

``users.session_generation`` is the generation every session cookie of the member names;
logging out, changing or resetting the password raises it, which ends every session of
that member at once. ``users.password_one_time`` marks a password made by ``user add`` or
an admin's reset, which logs in once (``users.one_time_spent``) and must then be changed.

Members already there keep their sessions (generation 0, which cookies without one name)
and their passwords, marked as chosen: nothing tells a one-time password from a chosen one.
The columns are added with ``ALTER TABLE ... ADD COLUMN`` on both databases.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column(
        "users",
        sa.Column("password_one_time", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "users",
        sa.Column("one_time_spent", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("one_time_spent")
        batch_op.drop_column("password_one_time")
        batch_op.drop_column("session_generation")

"""take posters: a small JPEG per take's media, made once, kept by fsck --gc

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:50:00.000000

``posters`` maps a take's media (by its sha256, not a foreign key, so a poster never keeps
its source in use) to the JPEG made of it, itself a media row; a source whose poster could
not be made has no poster and says why in ``error``. Posters are made on first request, so
nothing is filled in here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "posters",
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("poster_sha256", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["poster_sha256"], ["media.sha256"], name="fk_posters_poster_sha256_media"
        ),
        sa.PrimaryKeyConstraint("source_sha256", name="pk_posters"),
    )
    op.create_index("ix_posters_poster_sha256", "posters", ["poster_sha256"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_posters_poster_sha256", table_name="posters")
    op.drop_table("posters")

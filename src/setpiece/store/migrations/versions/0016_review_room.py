"""the review room: shot assignments, playlists and their takes, drawings on frames

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 14:10:00.000000

``assignments``: one member a shot, with a due date (ISO 8601 text). ``playlists`` and
``playlist_items``: takes to review in order; an item keeps its take's id and label as
text, without a foreign key, so a take deleted from the store shows as missing.
``annotations``: vector drawings on a take's frame range, one per comment. A playlist's
``session_*`` columns are its live review session: the leader, and the item and frame shown.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("due", sa.String(length=10), nullable=True),
        sa.Column("assigned_by", sa.String(length=100), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["shot_id"],
            ["shots.id"],
            name=op.f("fk_assignments_shot_id_shots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_assignments_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
        sa.UniqueConstraint("shot_id", name=op.f("uq_assignments_shot_id")),
    )
    op.create_index(op.f("ix_assignments_user_id"), "assignments", ["user_id"], unique=False)
    op.create_table(
        "playlists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("query", sa.String(length=100), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("session_leader", sa.String(length=100), nullable=True),
        sa.Column("session_position", sa.Integer(), nullable=True),
        sa.Column("session_frame", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playlists")),
        sa.UniqueConstraint("name", name=op.f("uq_playlists_name")),
    )
    op.create_table(
        "playlist_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("playlist_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("take_id", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["playlist_id"],
            ["playlists.id"],
            name=op.f("fk_playlist_items_playlist_id_playlists"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_playlist_items")),
    )
    op.create_index(
        op.f("ix_playlist_items_playlist_id"), "playlist_items", ["playlist_id"], unique=False
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("comment_id", sa.Integer(), nullable=False),
        sa.Column("take_id", sa.String(length=16), nullable=False),
        sa.Column("frame_start", sa.Integer(), nullable=False),
        sa.Column("frame_end", sa.Integer(), nullable=False),
        sa.Column("shapes", _JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["comment_id"],
            ["comments.id"],
            name=op.f("fk_annotations_comment_id_comments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["take_id"], ["takes.id"], name=op.f("fk_annotations_take_id_takes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
        sa.UniqueConstraint("comment_id", name=op.f("uq_annotations_comment_id")),
    )
    op.create_index(op.f("ix_annotations_take_id"), "annotations", ["take_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_annotations_take_id"), table_name="annotations")
    op.drop_table("annotations")
    op.drop_index(op.f("ix_playlist_items_playlist_id"), table_name="playlist_items")
    op.drop_table("playlist_items")
    op.drop_table("playlists")
    op.drop_index(op.f("ix_assignments_user_id"), table_name="assignments")
    op.drop_table("assignments")

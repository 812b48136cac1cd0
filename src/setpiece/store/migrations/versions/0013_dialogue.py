"""dialogue: lines, their audio takes, a character's voice, and speech jobs in the queue

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:45:00.000000

``lines`` holds each dialogue block of the script, named ``SCENE/NUMBER``; a revision marks
a dropped line omitted, never deletes it. ``line_takes`` holds the audio takes of a line,
synthetic (queued, with the voice and text they were made from) or recorded (an actor's
file). ``bible_entries.voice`` is a character's voice. ``render_jobs.line_take_id`` queues
a speech job in the same durable queue as picture takes; such a job has no picture take,
so ``render_jobs.take_id`` becomes nullable (a table copy on SQLite: render_jobs has no
trigger of 0006 to lose).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("bible_entries", sa.Column("voice", _JSON, nullable=True))
    op.create_table(
        "lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scene_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("character", sa.String(length=200), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("parenthetical", sa.Text(), nullable=True),
        sa.Column("extension", sa.String(length=50), nullable=True),
        sa.Column("dual", sa.Boolean(), nullable=False),
        sa.Column("omitted", sa.Boolean(), nullable=False),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["scene_id"], ["scenes.id"], name=op.f("fk_lines_scene_id_scenes")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["bible_entries.id"], name=op.f("fk_lines_entry_id_bible_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lines")),
        sa.UniqueConstraint("scene_id", "number", name="uq_lines_scene_number"),
    )
    op.create_index(op.f("ix_lines_scene_id"), "lines", ["scene_id"], unique=False)
    op.create_index(op.f("ix_lines_entry_id"), "lines", ["entry_id"], unique=False)
    op.create_table(
        "line_takes",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("line_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("circled", sa.Boolean(), nullable=False),
        sa.Column("media_sha256", sa.String(length=64), nullable=True),
        sa.Column("frames", sa.BigInteger(), nullable=True),
        sa.Column("sample_rate", sa.Integer(), nullable=True),
        sa.Column("lufs", sa.Float(), nullable=True),
        sa.Column("voice", _JSON, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("recipe", _JSON, nullable=False),
        sa.Column("failure", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["line_id"], ["lines.id"], name=op.f("fk_line_takes_line_id_lines")
        ),
        sa.ForeignKeyConstraint(
            ["media_sha256"], ["media.sha256"], name=op.f("fk_line_takes_media_sha256_media")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_line_takes")),
        sa.UniqueConstraint("line_id", "number", name="uq_line_takes_line_number"),
    )
    op.create_index(op.f("ix_line_takes_line_id"), "line_takes", ["line_id"], unique=False)
    op.create_index(op.f("ix_line_takes_status"), "line_takes", ["status"], unique=False)
    op.create_index(
        op.f("ix_line_takes_media_sha256"), "line_takes", ["media_sha256"], unique=False
    )
    with op.batch_alter_table("render_jobs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("line_take_id", sa.String(length=16), nullable=True))
        batch_op.alter_column("take_id", existing_type=sa.String(length=16), nullable=True)
        batch_op.create_index(
            batch_op.f("ix_render_jobs_line_take_id"), ["line_take_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_render_jobs_line_take_id_line_takes"),
            "line_takes",
            ["line_take_id"],
            ["id"],
        )


def downgrade() -> None:
    op.execute("DELETE FROM render_jobs WHERE take_id IS NULL")
    with op.batch_alter_table("render_jobs", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_render_jobs_line_take_id_line_takes"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_render_jobs_line_take_id"))
        batch_op.alter_column("take_id", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("line_take_id")
    op.drop_table("line_takes")
    op.drop_table("lines")
    with op.batch_alter_table("bible_entries", schema=None) as batch_op:
        batch_op.drop_column("voice")

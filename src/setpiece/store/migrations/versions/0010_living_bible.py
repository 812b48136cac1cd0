"""the living bible: entry versions and aliases, candidate descriptions, looks, likenesses,
and the bible each take was made from

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 10:20:00.000000

``bible_entries.version`` counts the edits a take's picture depends on (every entry there
is at version 1); ``aliases`` keeps former names; ``candidate_description`` is what the
script says of the entry, offered and never written over a person's description.
``bible_looks`` holds a character's looks by scene range, ``likenesses`` the real person a
character is the likeness of and the consent. ``takes.bible`` records the version of each
entry and look a take was made from (takes made before this revision record none, and are
never stale).

Columns are added with ``ALTER TABLE ... ADD COLUMN`` on both databases (no table copy on
SQLite: that would drop the triggers of 0006).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column(
        "bible_entries", sa.Column("version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column(
        "bible_entries",
        sa.Column("aliases", _JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column("bible_entries", sa.Column("candidate_description", sa.Text(), nullable=True))
    op.add_column(
        "takes", sa.Column("bible", _JSON, nullable=False, server_default=sa.text("'[]'"))
    )
    op.create_table(
        "bible_looks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("from_scene_id", sa.Integer(), nullable=False),
        sa.Column("to_scene_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("references", _JSON, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bible_entries.id"],
            name=op.f("fk_bible_looks_entry_id_bible_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_scene_id"], ["scenes.id"], name=op.f("fk_bible_looks_from_scene_id_scenes")
        ),
        sa.ForeignKeyConstraint(
            ["to_scene_id"], ["scenes.id"], name=op.f("fk_bible_looks_to_scene_id_scenes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bible_looks")),
    )
    op.create_index(op.f("ix_bible_looks_entry_id"), "bible_looks", ["entry_id"], unique=False)
    op.create_table(
        "likenesses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("person", sa.String(length=300), nullable=False),
        sa.Column("consent_sha256", sa.String(length=64), nullable=True),
        sa.Column("consent_file", sa.Text(), nullable=True),
        sa.Column("consent_size", sa.BigInteger(), nullable=True),
        sa.Column("consent_date", sa.String(length=10), nullable=True),
        sa.Column("scope", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["bible_entries.id"],
            name=op.f("fk_likenesses_entry_id_bible_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_likenesses")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_likenesses_entry_id")),
    )


def downgrade() -> None:
    op.drop_table("likenesses")
    op.drop_index(op.f("ix_bible_looks_entry_id"), table_name="bible_looks")
    op.drop_table("bible_looks")
    with op.batch_alter_table("takes", schema=None) as batch_op:
        batch_op.drop_column("bible")
    with op.batch_alter_table("bible_entries", schema=None) as batch_op:
        batch_op.drop_column("candidate_description")
        batch_op.drop_column("aliases")
        batch_op.drop_column("version")

"""workflows per shot and per take: a shot's ComfyUI workflow, a take's graph as sent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 10:20:00.000000

``shots.workflow`` is the API-format workflow file (relative to the project folder) that
renders of the shot use in place of the configured ones (``shot set CODE --workflow``).
``takes.workflow_sha256`` names the exact graph sent to the generator (after
substitution), stored content-addressed in the media store with a media row, so the take
can be made again after the workflow file changed (``render --from-recipe``) and ``fsck``
counts the file as in use. Both are nullable: shots and takes already there have none.
SQLite gets the take's column with its foreign key in one ``ADD COLUMN`` (allowed there
for a column that defaults to NULL), so the table is not copied; PostgreSQL adds the
column, then the constraint.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("shots", sa.Column("workflow", sa.Text(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE takes ADD COLUMN workflow_sha256 VARCHAR(64) "
            "CONSTRAINT fk_takes_workflow_sha256_media REFERENCES media (sha256)"
        )
        return
    op.add_column("takes", sa.Column("workflow_sha256", sa.String(length=64), nullable=True))
    op.create_foreign_key(
        "fk_takes_workflow_sha256_media", "takes", "media", ["workflow_sha256"], ["sha256"]
    )


def downgrade() -> None:
    with op.batch_alter_table("takes", schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":  # SQLite's goes with the column
            batch_op.drop_constraint("fk_takes_workflow_sha256_media", type_="foreignkey")
        batch_op.drop_column("workflow_sha256")
    with op.batch_alter_table("shots", schema=None) as batch_op:
        batch_op.drop_column("workflow")

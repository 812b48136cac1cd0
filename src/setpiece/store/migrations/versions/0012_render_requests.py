"""render requests that resume and outages that pause: two columns of render_jobs

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 10:10:00.000000

``render_jobs.request_key`` names the render request a job was queued by (its shots,
generator, kind, number of takes, prompt, style, ``--from``, workflow and seeds option,
hashed): running the same request again while its jobs are pending resumes them instead
of queueing more. ``render_jobs.outage_since`` is when the job's generator was first
found unreachable; the job waits, without spending attempts, until ``[render]
outage_minutes`` have passed since then. Jobs queued before this migration have neither:
they belong to no request, and no outage.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("render_jobs", sa.Column("request_key", sa.String(length=64), nullable=True))
    op.add_column(
        "render_jobs", sa.Column("outage_since", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("ix_render_jobs_request_key", "render_jobs", ["request_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("render_jobs", schema=None) as batch_op:
        batch_op.drop_index("ix_render_jobs_request_key")
        batch_op.drop_column("outage_since")
        batch_op.drop_column("request_key")

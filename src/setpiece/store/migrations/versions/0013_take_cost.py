"""what a take cost, and what it was quoted: four columns of takes

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 13:50:00.000000

``takes.cost_amount`` and ``takes.cost_unit`` are what the take cost as its backend billed or
measured it (Runway: credits; diffusers and ComfyUI: compute or GPU seconds; previs: zero),
``takes.quote_amount`` and ``takes.quote_unit`` what it was quoted when it was queued: a take
still pending or running counts against a budget by its quote. Amounts are decimal text
(exact on SQLite and PostgreSQL alike, summed as ``Decimal``); units are never converted.
Takes made before this migration have neither: their cost is unknown, not zero.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("cost_amount", "cost_unit", "quote_amount", "quote_unit")


def upgrade() -> None:
    for name in _COLUMNS:
        op.add_column("takes", sa.Column(name, sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("takes", schema=None) as batch_op:
        for name in reversed(_COLUMNS):
            batch_op.drop_column(name)

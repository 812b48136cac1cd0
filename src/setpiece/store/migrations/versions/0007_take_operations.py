"""take operations: a derived take's operations get a column of their own

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 06:40:00.000000

Until this revision a derived take kept its operation under the reserved key
``parameters["operation"]`` and its parent's under ``parameters["operations"]``, inside
the generator's free parameters. Upgrading moves both, in order (the earlier ones first,
the take's own last), into ``takes.operations`` and takes the keys out of ``parameters``;
downgrading puts them back the way they were.

The column is added with ``ALTER TABLE ... ADD COLUMN`` on both databases (no table copy
on SQLite: that would drop the take triggers of 0006).
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TAKES = sa.table(
    "takes",
    sa.column("id", sa.String()),
    sa.column("parameters", _JSON),
    sa.column("operations", _JSON),
)
_KEYS = ("operations", "operation")


def _moved(parameters: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The parameters without the reserved keys, and the operations they held, oldest first."""
    chain = [op for op in parameters.get("operations") or [] if isinstance(op, dict)]
    own = parameters.get("operation")
    if isinstance(own, dict):
        chain.append(own)
    return {k: v for k, v in parameters.items() if k not in _KEYS}, chain


def upgrade() -> None:
    op.add_column(
        "takes", sa.Column("operations", _JSON, nullable=False, server_default=sa.text("'[]'"))
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(_TAKES.c.id, _TAKES.c.parameters)).all()
    for take_id, parameters in rows:
        if not isinstance(parameters, dict) or not any(key in parameters for key in _KEYS):
            continue
        kept, chain = _moved(parameters)
        bind.execute(
            _TAKES.update().where(_TAKES.c.id == take_id).values(parameters=kept, operations=chain)
        )


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_TAKES.c.id, _TAKES.c.parameters, _TAKES.c.operations)).all()
    for take_id, parameters, chain in rows:
        if not chain:
            continue
        restored = dict(parameters or {})
        restored["operations"] = list(chain[:-1])
        restored["operation"] = chain[-1]
        bind.execute(_TAKES.update().where(_TAKES.c.id == take_id).values(parameters=restored))
    op.drop_column("takes", "operations")

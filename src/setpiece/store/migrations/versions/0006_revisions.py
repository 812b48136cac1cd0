"""revisions: counters that triggers move on every change to what a cached view shows

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 01:40:00.000000

The ``shot_list`` counter moves on any change to shots, scenes and shot subjects, to a bible
entry's name or kind, and when a take is added, removed or moved to another shot (the list
shows each shot's number of takes; a take's status does not show there).

SQLite: a trigger per table and event, each row (SQLite has one writer at a time).
PostgreSQL: constraint triggers deferred to the commit, so a transaction takes the counter's
row lock only at its very end: taken mid-transaction, two writers could each hold a row the
other needs and deadlock.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, events, counter); an event is INSERT, DELETE, UPDATE or "UPDATE OF col, ...".
WATCHED = [
    ("shots", ["INSERT", "UPDATE", "DELETE"], "shot_list"),
    ("scenes", ["INSERT", "UPDATE", "DELETE"], "shot_list"),
    ("shot_subjects", ["INSERT", "UPDATE", "DELETE"], "shot_list"),
    ("bible_entries", ["UPDATE OF name, kind", "DELETE"], "shot_list"),
    ("takes", ["INSERT", "UPDATE OF shot_id", "DELETE"], "shot_list"),
]
COUNTERS = sorted({counter for _, _, counter in WATCHED})


def _trigger_name(table: str, event: str) -> str:
    return f"revision_{table}_{event.split()[0].lower()}"


def upgrade() -> None:
    op.create_table(
        "revisions",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_revisions")),
    )
    for counter in COUNTERS:
        op.execute(
            sa.text("INSERT INTO revisions (name, n) VALUES (:name, 0)").bindparams(name=counter)
        )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION setpiece_bump_revision() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE revisions SET n = n + 1 WHERE name = TG_ARGV[0];
                RETURN NULL;
            END
            $$
            """
        )
        for table, events, counter in WATCHED:
            op.execute(
                f"CREATE CONSTRAINT TRIGGER revision_{table} AFTER {' OR '.join(events)} "
                f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                f"EXECUTE FUNCTION setpiece_bump_revision('{counter}')"
            )
    else:
        for table, events, counter in WATCHED:
            for event in events:
                op.execute(
                    f"CREATE TRIGGER {_trigger_name(table, event)} AFTER {event} ON {table} "
                    f"BEGIN UPDATE revisions SET n = n + 1 WHERE name = '{counter}'; END"
                )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table, _, _ in WATCHED:
            op.execute(f"DROP TRIGGER revision_{table} ON {table}")
        op.execute("DROP FUNCTION setpiece_bump_revision()")
    else:
        for table, events, _ in WATCHED:
            for event in events:
                op.execute(f"DROP TRIGGER {_trigger_name(table, event)}")
    op.drop_table("revisions")

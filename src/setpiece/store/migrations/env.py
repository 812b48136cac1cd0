"""Alembic environment: Setpiece always hands in an open connection (see ``store.db``)."""

from alembic import context

from setpiece.model.orm import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("Setpiece migrations run through setpiece.store.db.Database")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
context.run_migrations()

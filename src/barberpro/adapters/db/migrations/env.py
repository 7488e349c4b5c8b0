"""Alembic environment: runs with the connection handed over by `barberpro db upgrade`."""

from __future__ import annotations

from alembic import context

from barberpro.adapters.db.tables import metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - always called through migrate.upgrade()
    raise RuntimeError("run migrations with `barberpro db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

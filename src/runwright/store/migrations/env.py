"""Alembic environment: runs on the connection runwright hands it (never opens its own)."""

from __future__ import annotations

from alembic import context

from runwright.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - runwright always passes a connection
    raise RuntimeError("run migrations through `runwright db upgrade`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()

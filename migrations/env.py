"""Alembic environment: runs migrations on the connection `levante db upgrade` gives it."""

from __future__ import annotations

from alembic import context

from levante.persistence.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `levante db upgrade`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

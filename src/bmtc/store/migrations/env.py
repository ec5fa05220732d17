"""Alembic environment: runs on the connection bmtc hands it (see bmtc.store.database)."""

from alembic import context

from bmtc.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

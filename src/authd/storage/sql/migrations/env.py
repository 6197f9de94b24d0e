"""Alembic environment: always driven programmatically by ``authd.storage.sql.engine.migrate``.

The caller hands in an open connection (``config.attributes["connection"]``),
so migrations run inside authd's own transaction and advisory lock.
"""

from __future__ import annotations

from alembic import context

from authd.storage.sql.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment: runs on the connection ``parley.adapters.storage.migrate`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

# Any constant works; every Parley process that migrates PostgreSQL takes the same lock so two
# servers starting together do not both create the tables.
_MIGRATION_LOCK = 0x70617231


def _run(connection: Connection) -> None:
    context.configure(connection=connection, transaction_per_migration=False)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATION_LOCK})
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through parley.adapters.storage.migrate.upgrade_database")
_run(connection)

"""The ``Store`` on a SQLite file: WAL, one writer connection, a thread-local reader each."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Final, cast

from parley.adapters.storage.dialect import Cursor, Dialect
from parley.adapters.storage.migrate import sqlite_path
from parley.adapters.storage.sql_base import SqlStore

_UNIQUE: Final = frozenset({"SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY"})
BUSY_TIMEOUT_MS: Final = 10_000


class SqliteDialect(Dialect):
    name = "sqlite"
    # Take the write lock at BEGIN, so a busy database waits there instead of failing mid-group.
    begin = "BEGIN IMMEDIATE"
    connection_error = sqlite3.OperationalError
    commits_on_loop = True
    one_writer = True

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def connect(self, *, for_writes: bool) -> Cursor:
        # Readers are closed by whichever thread shuts the pool down, hence check_same_thread.
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if for_writes:
            connection.execute("PRAGMA journal_mode = WAL")
            # With WAL, NORMAL loses no committed data on a crash, only on power loss.
            connection.execute("PRAGMA synchronous = NORMAL")
        return cast(Cursor, connection.cursor())

    def unique_violation(self, exc: Exception) -> str | None:
        if isinstance(exc, sqlite3.IntegrityError) and exc.sqlite_errorname in _UNIQUE:
            return str(exc)  # "UNIQUE constraint failed: users.org_id, users.email_lower"
        return None


class SqliteStore(SqlStore):
    def __init__(self, url: str, *, migrate: bool = True, readers: int = 2) -> None:
        super().__init__(url, SqliteDialect(sqlite_path(url)), migrate=migrate, readers=readers)

"""Back up and restore the database named by a ``PARLEY_DATABASE_URL`` (contract 13).

SQLite goes through its online backup API, page by page, so a running server keeps writing
meanwhile and the copy is one consistent snapshot. PostgreSQL goes through its own tools
(``pg_dump`` in its custom format, ``pg_restore``), which must be installed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from parley.adapters.storage.migrate import sqlite_path
from parley.adapters.storage.postgres import conninfo

PAGES_PER_STEP = 1024  # the source is locked only for one step at a time


class BackupError(OSError):
    """Why a backup or restore could not be made; the message is for the operator."""


def backup(url: str, target: Path) -> str:
    """Write a copy of the database to ``target``; returns what was done, in words."""
    if url.startswith("sqlite:///"):
        source = sqlite_path(url)
        if not source.exists():
            raise BackupError(f"there is no database at {source}")
        _sqlite_copy(source, target)
        return f"backed up {source} to {target} (SQLite online backup)"
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        _run("pg_dump", "--format=custom", "--no-owner", f"--file={target}", conninfo(url))
        return f"backed up the PostgreSQL database to {target} (pg_dump, custom format)"
    raise BackupError(f"{url.partition(':')[0]} databases cannot be backed up (only SQLite and PostgreSQL)")


def restore(url: str, source: Path) -> str:
    """Replace the database's contents with a backup made by ``backup`` (stop the servers first)."""
    if not source.exists():
        raise BackupError(f"there is no backup at {source}")
    if url.startswith("sqlite:///"):
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
        return f"restored {target} from {source}"
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        _run(
            "pg_restore",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--dbname",
            conninfo(url),
            str(source),
        )
        return f"restored the PostgreSQL database from {source} (pg_restore)"
    raise BackupError(f"{url.partition(':')[0]} databases cannot be restored (only SQLite and PostgreSQL)")


def _sqlite_copy(source: Path, target: Path) -> None:
    try:
        with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
            src.backup(dst, pages=PAGES_PER_STEP)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite: {exc}") from None


def _run(tool: str, *args: str) -> None:
    program = shutil.which(tool)
    if program is None:
        raise BackupError(f"{tool} is not installed: PostgreSQL's client tools are needed (Debian: postgresql-client)")
    done = subprocess.run([program, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{tool} failed: {done.stderr.strip() or done.returncode}")

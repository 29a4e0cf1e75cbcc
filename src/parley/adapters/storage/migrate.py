"""Bring a database's schema up to date with the Alembic migrations shipped in this package."""

from __future__ import annotations

from pathlib import Path

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision. A database already there starts without importing Alembic
# and SQLAlchemy (a quarter of a second); a test checks this against the migration scripts.
HEAD_REVISION = "0005"


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy spelling of a Parley database URL (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return url
    raise ValueError(f"no migrations for database URL {url!r}")


def sqlite_path(url: str) -> Path:
    """The file behind ``sqlite:///relative/path`` or ``sqlite:////absolute/path``."""
    path = url.removeprefix("sqlite:///")
    if path == url or not path or path.startswith(":memory:") or path.startswith("file:"):
        raise ValueError(f"a SQLite database URL names a file: sqlite:///path, not {url!r}")
    return Path(path)


def upgrade_database(url: str, revision: str = "head") -> None:
    """Run ``alembic upgrade`` to ``revision`` against ``url``; creates a SQLite file's directory."""
    # Imported here: SQLAlchemy and Alembic are only needed while migrating.
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    sa_url = sqlalchemy_url(url)
    if sa_url.startswith("sqlite:"):
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(sa_url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()

"""Storage adapters for the ``Store`` port, picked by URL.

``sqlite:///path/to/file.db``, ``postgresql://user@host/db`` or ``memory://``. Drivers are
imported only for the backend asked for.
"""

from __future__ import annotations

from parley.service.ports import Store


def open_store(url: str, *, migrate: bool = True) -> Store:
    """A store for ``url``; ``start()`` it (which brings the schema up to date unless
    ``migrate`` is false) before use and ``close()`` it after."""
    scheme = url.partition("://")[0]
    if scheme == "memory":
        from parley.adapters.storage.memory import MemoryStore

        return MemoryStore()
    if scheme == "sqlite":
        from parley.adapters.storage.sqlite import SqliteStore

        return SqliteStore(url, migrate=migrate)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        from parley.adapters.storage.postgres import PostgresStore

        return PostgresStore(url, migrate=migrate)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///..., postgresql://... or memory://")


__all__ = ["open_store"]

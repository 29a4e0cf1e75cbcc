"""What differs between the SQL databases Parley runs on, kept as small as possible."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol


class Closeable(Protocol):
    def close(self) -> None: ...


class Cursor(Protocol):
    """The part of a DB-API cursor (``sqlite3`` or ``psycopg``) the stores use."""

    @property
    def connection(self) -> Closeable: ...
    @property
    def rowcount(self) -> int: ...
    def execute(self, sql: str, params: Sequence[Any] = ..., /) -> object: ...
    def executemany(self, sql: str, params: Sequence[Sequence[Any]], /) -> object: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Dialect(ABC):
    name: str
    # Statements are written with ``?`` placeholders; other styles are swapped in once per text.
    placeholder: str = "?"
    begin: str = "BEGIN"
    # SQL function ``f(haystack, needle)`` giving the 1-based position of needle, 0 if absent.
    position_function: str = "instr"
    # Errors after which a connection is thrown away and opened again.
    connection_error: type[Exception] = Exception
    # Commit groups on the event loop (a local file whose commits do not sync) rather than on
    # a writer thread (a server a network round trip away); see workers.py.
    commits_on_loop: bool = False
    # Only one process writes the database, so no two writers race (SQLite: one Parley a file).
    one_writer: bool = False

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}

    def sql(self, text: str) -> str:
        converted = self._texts.get(text)
        if converted is None:
            converted = self._texts[text] = text.replace("?", self.placeholder)
        return converted

    @abstractmethod
    def connect(self, *, for_writes: bool) -> Cursor:
        """A cursor on a new connection in autocommit mode (transactions are explicit)."""

    @abstractmethod
    def unique_violation(self, exc: Exception) -> str | None:
        """If ``exc`` broke a uniqueness rule: text naming the constraint or its columns."""

    def pipeline(self, cursor: Cursor) -> AbstractContextManager[object] | None:
        """A mode that sends statements without waiting for each answer, if the driver has one;
        errors then surface only when it ends."""
        return None

"""The threads that talk to the database, so the event loop never waits on it.

One writer thread owns the only write connection and commits in groups: it takes every
operation queued since its last commit, runs them in one transaction, commits once, then
answers the callers in submission order. A caller's write therefore returns only after its
data is committed, at the cost of one commit per group instead of one per request.

If anything in a group fails, the whole attempt is rolled back and the group replayed with each
operation in its own savepoint, so one failing operation fails only its own caller. Failures
are rare (a duplicate key), so the common case pays for no savepoints. Where the driver can
pipeline (PostgreSQL), the first attempt is sent in one go without waiting for each answer,
and in either case a run of writes of one statement (messages, under load) goes to the driver
as one ``executemany``.

Reads go to a few threads with a connection each.

A connection that fails (the database restarting: "the database system is shutting down", a
broken connection) is thrown away. A read is tried once more on a new connection; so is a
group of writes, since a group whose connection failed did not commit, unless the failure hit
the answer to its COMMIT. Then a message's insert ignores its own row and an Idempotency-Key's
record is found as the first answer, so a sent message is reported stored; other writes either
set values (no harm twice) or fail as duplicates. A second failure answers ``Unavailable`` (503
with Retry-After), never an unexpected error, and the next operation connects afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from time import perf_counter
from typing import Any, Final, TypeVar

from parley.adapters.storage.dialect import Cursor, Dialect
from parley.domain.errors import Unavailable
from parley.service.counters import COUNTS

T = TypeVar("T")
Outcome = tuple[BaseException | None, Any]  # (error, result)

MAX_GROUP: Final = 1000
RESTART_WAL_FRAMES: Final = 32768  # 128 MiB of 4 KiB pages
JOURNAL_SIZE_LIMIT: Final = 128 * 1024 * 1024
CATCH_UP_PASSES: Final = 8
CATCH_UP_FRAMES: Final = 256  # frames a pass may find new before the held pass
CHECKPOINT_NICENESS: Final = 10
RESTART_HOLD_LIMIT_SECONDS: Final = 0.5  # a loop this late to hold is busy elsewhere; try next time


class StoreClosed(Exception):
    """The store was closed; nothing more is accepted."""


def database_unavailable() -> Unavailable:
    return Unavailable.of("server", "databaseUnavailable", "the database is not answering; retry shortly")


@dataclass(slots=True, init=False)
class _Write:
    run: Callable[[Cursor], Any]
    reads: bool
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    statement: str  # when ``run`` is just this statement with ``params`` (and ``then``); else ""
    params: Sequence[Any]
    then: tuple[str, ...]  # statements ``run`` runs after ``statement``, in its transaction
    then_params: tuple[Sequence[Any], ...]

    def __init__(
        self,
        run: Callable[[Cursor], Any],
        reads: bool,
        loop: asyncio.AbstractEventLoop,
        future: asyncio.Future[Any],
        statement: str,
        params: Sequence[Any],
        then: tuple[str, ...] = (),
        then_params: tuple[Sequence[Any], ...] = (),
    ) -> None:
        # Spelled out: a dataclass's generated __init__ stays interpreted where this is compiled.
        self.run = run
        self.reads = reads
        self.loop = loop
        self.future = future
        self.statement = statement
        self.params = params
        self.then = then
        self.then_params = then_params


def _write(
    run: Callable[[Cursor], Any],
    reads: bool,
    loop: asyncio.AbstractEventLoop,
    future: asyncio.Future[Any],
    statement: str,
    params: Sequence[Any],
    then: tuple[tuple[str, Sequence[Any]], ...],
) -> _Write:
    if not then:
        return _Write(run, reads, loop, future, statement, params)
    return _Write(run, reads, loop, future, statement, params, tuple(s for s, _ in then), tuple(p for _, p in then))


def _settle(answers: list[tuple[asyncio.Future[Any], BaseException | None, Any]]) -> None:
    for future, error, result in answers:
        try:
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
        except asyncio.InvalidStateError:  # the caller was cancelled; its write may still have committed
            pass


class GroupCommitWriter:
    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._queue: queue.SimpleQueue[_Write | None] = queue.SimpleQueue()
        self._cursor: Cursor | None = None
        self._writer_thread: threading.Thread | None = None
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the last write
        self.commits = 0  # groups committed so far, for tests and benchmarks

    def open(self) -> None:
        """Connect and start the thread (blocking: call it from a worker thread)."""
        self._cursor = self._dialect.connect(for_writes=True)
        self._writer_thread = threading.Thread(target=self._serve, name="parley-store-writer", daemon=True)
        self._writer_thread.start()

    async def submit(
        self,
        run: Callable[[Cursor], T],
        *,
        reads: bool = False,
        statement: str = "",
        params: Sequence[Any] = (),
        then: tuple[tuple[str, Sequence[Any]], ...] = (),
    ) -> T:
        """Run ``run`` in the next group; returns once that group is committed.

        ``reads`` says that ``run`` looks at what its statements return (rows or counts),
        so its group must wait for each answer instead of being sent in one go. ``statement``
        and ``params`` say that ``run`` is only that statement (followed by the statements of
        ``then`` with theirs), so that a run of such writes can go to the driver as one
        ``executemany`` per statement.
        """
        if self._closed or self._writer_thread is None:
            raise StoreClosed("the store is not open")
        loop = self._loop = running_loop(self._loop)
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put(_write(run, reads, loop, future, statement, params, then))
        return await future

    async def aclose(self) -> None:
        """Commit everything queued so far, then stop."""
        await asyncio.to_thread(self.close)

    def close(self) -> None:
        """Commit everything queued so far, then stop (blocking)."""
        self._closed = True
        if self._writer_thread is not None:
            self._queue.put(None)
            self._writer_thread.join()
            self._writer_thread = None
        if self._cursor is not None:
            self._cursor.connection.close()
            self._cursor = None

    def _serve(self) -> None:
        stopping = False
        while not stopping:
            group: list[_Write] = []
            item = self._queue.get()
            while True:
                if item is None:
                    stopping = True
                    break
                group.append(item)
                if len(group) >= MAX_GROUP:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if group:
                self._answer(group, self._commit(group))

    def _commit(self, group: list[_Write]) -> list[Outcome]:
        started = perf_counter()
        outcomes = self._attempt(group)
        if any(isinstance(error, self._dialect.connection_error) for error, _ in outcomes):
            self._drop_connection()
            outcomes = self._attempt(group)
        COUNTS.commit(perf_counter() - started)
        lost = database_unavailable()
        return [(lost, None) if isinstance(e, self._dialect.connection_error) else (e, r) for e, r in outcomes]

    def _attempt(self, group: list[_Write]) -> list[Outcome]:
        try:
            cursor = self._cursor or self._reconnect()
            if len(group) > 1:
                pipeline = None if any(w.reads for w in group) else self._dialect.pipeline(cursor)
                try:
                    return self._together(cursor, pipeline, group)
                except Exception:
                    # Which write failed is only known after the fact: replay them one by one.
                    cursor.execute("ROLLBACK")
            return self._isolated(cursor, group)
        except Exception as exc:
            self._roll_back()
            return [(exc, None)] * len(group)

    def _together(
        self, cursor: Cursor, pipeline: AbstractContextManager[object] | None, group: list[_Write]
    ) -> list[Outcome]:
        """Run the whole group in one transaction, pipelined where the driver can; all of it
        commits or none."""
        if pipeline is None:
            outcomes = self._in_transaction(cursor, group)
        else:
            with pipeline:  # a pipelined statement's error surfaces only when the pipeline ends
                outcomes = self._in_transaction(cursor, group)
        self.commits += 1
        return outcomes

    def _in_transaction(self, cursor: Cursor, group: list[_Write]) -> list[Outcome]:
        cursor.execute(self._dialect.begin)
        outcomes = self._run_all(cursor, group)
        cursor.execute("COMMIT")
        return outcomes

    @staticmethod
    def _run_all(cursor: Cursor, group: list[_Write]) -> list[Outcome]:
        """Run the group's writes in order, each run of one same statement as one ``executemany``
        (binding and stepping in the driver's C loop instead of a Python call per row)."""
        outcomes: list[Outcome] = []
        done = 0
        while done < len(group):
            write = group[done]
            end = done + 1
            if write.statement:
                while end < len(group) and group[end].statement == write.statement and group[end].then == write.then:
                    end += 1
            if end - done > 1:
                run = group[done:end]
                cursor.executemany(write.statement, [w.params for w in run])
                for i, statement in enumerate(write.then):  # the same transaction: the order of rows is kept
                    cursor.executemany(statement, [w.then_params[i] for w in run])
                outcomes += [(None, None)] * (end - done)
            else:
                outcomes.append((None, write.run(cursor)))
            done = end
        return outcomes

    def _isolated(self, cursor: Cursor, group: list[_Write]) -> list[Outcome]:
        cursor.execute(self._dialect.begin)
        if len(group) == 1:  # the transaction itself isolates a lone write
            outcomes: list[Outcome] = [(None, group[0].run(cursor))]
        else:
            outcomes = [self._in_savepoint(cursor, write.run) for write in group]
        cursor.execute("COMMIT")
        self.commits += 1
        return outcomes

    @staticmethod
    def _in_savepoint(cursor: Cursor, run: Callable[[Cursor], Any]) -> Outcome:
        cursor.execute("SAVEPOINT write")
        try:
            result = run(cursor)
        except Exception as exc:
            cursor.execute("ROLLBACK TO SAVEPOINT write")
            cursor.execute("RELEASE SAVEPOINT write")
            return exc, None
        cursor.execute("RELEASE SAVEPOINT write")
        return None, result

    def _roll_back(self) -> None:
        cursor = self._cursor
        if cursor is None:
            return
        try:
            cursor.execute("ROLLBACK")
        except Exception:
            # The connection is unusable (or no transaction began); start afresh next time.
            self._drop_connection()

    def _drop_connection(self) -> None:
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            with contextlib.suppress(Exception):
                cursor.connection.close()

    def _reconnect(self) -> Cursor:
        self._cursor = self._dialect.connect(for_writes=True)
        return self._cursor

    @staticmethod
    def _answer(group: list[_Write], outcomes: list[Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], BaseException | None, Any]]] = {}
        for write, (error, result) in zip(group, outcomes, strict=True):
            by_loop.setdefault(write.loop, []).append((write.future, error, result))
        for loop, answers in by_loop.items():
            with contextlib.suppress(RuntimeError):  # that loop is closed: nobody is waiting
                loop.call_soon_threadsafe(_settle, answers)


class LoopGroupWriter(GroupCommitWriter):
    """Group commit on the event loop itself, for SQLite.

    A SQLite commit in WAL mode with ``synchronous=NORMAL`` only appends to the log (no fsync),
    so it is cheaper to run it right on the loop than to hand it to a thread: no thread switch
    per group and no waiting for the GIL between the two. Every write submitted during one turn
    of the loop forms one group, committed at the start of the next turn. What can take long is
    a checkpoint (it syncs the database file), so the write connection never checkpoints by
    itself: a thread with its own connection does, in the background.

    SQLite starts the log afresh only when a write begins after a checkpoint has copied all of
    it, which never happens while commits keep arriving faster than a checkpoint syncs: the log
    would grow by megabytes a second for as long as the load lasts. So once it passes
    ``restart_frames``, the checkpointer catches up with it, then asks the loop to hold new
    commits (the loop goes on serving; writes wait in the next group), copies the last frames,
    and lets the held group commit, which restarts the log. The hold lasts one short checkpoint.
    """

    def __init__(
        self, dialect: Dialect, checkpoint_seconds: float = 1.0, restart_frames: int = RESTART_WAL_FRAMES
    ) -> None:
        super().__init__(dialect)
        self._checkpoint_seconds = checkpoint_seconds
        self._restart_frames = restart_frames
        self._pending: list[_Write] = []
        self._flush_scheduled = False
        self._held = False
        self._holding = threading.Event()  # set on the loop once commits are held
        self._stop_checkpoints = threading.Event()
        self._checkpointer: threading.Thread | None = None
        self.log_restarts = 0  # times the log was started afresh under load, for tests and benchmarks

    def open(self) -> None:
        self._reconnect()
        self._stop_checkpoints.clear()
        self._checkpointer = threading.Thread(target=self._checkpoints, name="parley-store-checkpoint", daemon=True)
        self._checkpointer.start()

    def _reconnect(self) -> Cursor:
        cursor = self._dialect.connect(for_writes=True)
        cursor.execute("PRAGMA wal_autocheckpoint = 0")
        # A log that grew large before a restart is cut back to this size.
        cursor.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        self._cursor = cursor
        return cursor

    async def submit(
        self,
        run: Callable[[Cursor], T],
        *,
        reads: bool = False,
        statement: str = "",
        params: Sequence[Any] = (),
        then: tuple[tuple[str, Sequence[Any]], ...] = (),
    ) -> T:
        if self._closed or self._checkpointer is None:
            raise StoreClosed("the store is not open")
        loop = self._loop = running_loop(self._loop)
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append(_write(run, reads, loop, future, statement, params, then))
        self._schedule_flush(loop)
        return await future

    def _schedule_flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Commit what is pending at the next turn of the loop, unless that is already due or
        commits are held."""
        if not self._flush_scheduled and not self._held:
            self._flush_scheduled = True
            loop.call_soon(self._flush)

    def _hold(self) -> None:
        self._held = True
        self._holding.set()

    def _release(self) -> None:
        self._held = False
        self._holding.clear()
        if self._pending and self._loop is not None:
            self._schedule_flush(self._loop)

    def _flush(self) -> None:
        self._flush_scheduled = False
        if self._held:
            return  # the release schedules the held group
        group, self._pending = self._pending, []
        for start in range(0, len(group), MAX_GROUP):
            part = group[start : start + MAX_GROUP]
            answers = [(w.future, error, result) for w, (error, result) in zip(part, self._commit(part), strict=True)]
            _settle(answers)

    async def aclose(self) -> None:
        """Commit what is still queued, then stop."""
        self._closed = True
        await asyncio.to_thread(self._stop_checkpointer)
        self._held = False
        if self._pending:
            self._flush()
        await asyncio.to_thread(self._close_writer)

    def _stop_checkpointer(self) -> None:
        self._stop_checkpoints.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None

    def _close_writer(self) -> None:
        if self._cursor is not None:
            self._checkpoint(self._cursor)
            self._cursor.connection.close()
            self._cursor = None

    def _checkpoints(self) -> None:
        _lowest_priority()
        cursor = self._dialect.connect(for_writes=False)
        try:
            while not self._stop_checkpoints.wait(self._checkpoint_seconds):
                in_log, copied = self._checkpoint(cursor)
                if in_log >= self._restart_frames and copied >= 0:
                    self._restart_log(cursor, in_log)
        finally:
            cursor.connection.close()

    def _restart_log(self, cursor: Cursor, in_log: int) -> None:
        """Hold commits for one checkpoint that copies the whole log, so the next commit
        starts it afresh.

        First, without holding anything, checkpoint again until a pass finds little new in the
        log: what the held pass has left to copy, and so the hold, is then short (a few ms, most
        of it the sync of the database file).
        """
        loop = self._loop
        if loop is None:
            return
        for _ in range(CATCH_UP_PASSES):
            before = in_log
            in_log, copied = self._checkpoint(cursor)
            if copied < 0:
                return
            if in_log - before < CATCH_UP_FRAMES:
                break
        try:
            loop.call_soon_threadsafe(self._hold)
        except RuntimeError:
            return  # the loop is closed
        try:
            if not self._holding.wait(RESTART_HOLD_LIMIT_SECONDS):
                return
            in_log, copied = self._checkpoint(cursor)
            if in_log == copied:
                self.log_restarts += 1
        finally:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._release)

    @staticmethod
    def _checkpoint(cursor: Cursor) -> tuple[int, int]:
        """One PASSIVE checkpoint: frames in the log and frames copied so far (-1 if it failed).

        PASSIVE never waits for (or blocks) readers and writers; what it cannot copy now it
        copies next time.
        """
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            _busy, in_log, copied = cursor.fetchone()
        except Exception:
            return 0, -1
        return int(in_log), int(copied)


def _lowest_priority() -> None:
    """Give the calling thread a low scheduling priority.

    Linux schedules threads like processes, so a checkpoint would otherwise share the core
    evenly with the event loop and stall it for milliseconds at a time. Not the lowest (19):
    on a saturated core that starves the checkpoints, and the log then grows without bound.
    Not the idle class either: a thread there can sit descheduled while holding the GIL the
    loop is waiting for.
    """
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), CHECKPOINT_NICENESS)


def running_loop(cached: asyncio.AbstractEventLoop | None) -> asyncio.AbstractEventLoop:
    """The loop running this coroutine: ``cached`` while it still runs.

    On Python 3.11 ``asyncio.get_running_loop()`` makes a ``getpid`` system call every time (to
    notice a fork); once per write it was a tenth of the store's system time.
    """
    if cached is not None and cached.is_running():
        return cached
    return asyncio.get_running_loop()


class ReaderPool:
    def __init__(self, dialect: Dialect, size: int) -> None:
        self._dialect = dialect
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="parley-store-reader")
        self._local = threading.local()
        self._lock = threading.Lock()
        self._cursors: set[Cursor] = set()
        self._closed = False
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the last read

    async def submit(self, run: Callable[[Cursor], T]) -> T:
        if self._closed:
            raise StoreClosed("the store is closed")
        loop = self._loop = running_loop(self._loop)
        return await loop.run_in_executor(self._executor, self._call, run)

    def _call(self, run: Callable[[Cursor], T]) -> T:
        try:
            return run(self._cursor())
        except self._dialect.connection_error:
            # A read changes nothing, so one more try on a new connection is always safe.
            self._drop_cursor()
        try:
            return run(self._cursor())
        except self._dialect.connection_error:
            self._drop_cursor()
            raise database_unavailable() from None

    def _cursor(self) -> Cursor:
        cursor: Cursor | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self._dialect.connect(for_writes=False)
            with self._lock:
                self._cursors.add(cursor)
        return cursor

    def _drop_cursor(self) -> None:
        cursor: Cursor | None = getattr(self._local, "cursor", None)
        self._local.cursor = None
        if cursor is not None:
            with self._lock:
                self._cursors.discard(cursor)
            with contextlib.suppress(Exception):
                cursor.connection.close()

    def close(self) -> None:
        """Wait for running reads, then close every connection (blocking)."""
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._lock:
            cursors, self._cursors = self._cursors, set()
        for cursor in cursors:
            cursor.connection.close()

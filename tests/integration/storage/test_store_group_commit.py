"""The SQL stores' group-commit writer: many writes per transaction, each failing alone,
and none answered before it is committed."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest

from parley.adapters.storage import open_store
from parley.adapters.storage.sql_base import SqlStore
from parley.adapters.storage.workers import GroupCommitWriter, LoopGroupWriter, StoreClosed, _Write
from parley.domain.errors import AlreadyExists
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s
from tests.integration.storage.conftest import OpenStore


def in_order(transcript: list[Any]) -> list[int]:
    return [m.seq for m in transcript]


async def test_concurrent_writes_all_commit(store: Store) -> None:
    await asyncio.gather(*(store.add_message(s.message(seq), s.idempotency(f"k{seq}")) for seq in range(1, 501)))

    assert in_order(await store.transcript(s.ORG, "int_1")) == list(range(1, 501))
    assert await store.get_idempotency("key_1", "k500") == s.idempotency("k500")


async def test_concurrent_writes_share_transactions(sql_url: str, open_started: OpenStore) -> None:
    store = cast(SqlStore, await open_started(sql_url))
    before = store.commits

    await asyncio.gather(*(store.add_message(s.message(seq)) for seq in range(1, 501)))

    assert 1 <= store.commits - before < 500


@asynccontextmanager
async def writer_held(store: SqlStore) -> AsyncIterator[None]:
    """Keeps the writer busy until the block ends, so everything queued inside it forms one group.

    A writer on the event loop needs no holding: what is queued in one turn of the loop is a group.
    """
    if isinstance(store._writer, LoopGroupWriter):
        yield
        return
    gate = threading.Event()
    holding = asyncio.ensure_future(store._writer.submit(lambda _cursor: gate.wait(10)))
    await asyncio.sleep(0.05)
    try:
        yield
    finally:
        gate.set()
        await holding


async def gather_in_one_group(store: SqlStore, writes: Sequence[Callable[[], Awaitable[Any]]]) -> list[Any]:
    async with writer_held(store):
        pending = [asyncio.ensure_future(write()) for write in writes]
        await asyncio.sleep(0)  # let every write reach the queue
    return await asyncio.gather(*pending, return_exceptions=True)


async def test_a_duplicate_fails_alone_and_the_rest_of_its_group_commits(sql_url: str, open_started: OpenStore) -> None:
    store = cast(SqlStore, await open_started(sql_url))
    await store.add_message(s.message(0))
    messages = [s.message(seq) for seq in range(1, 500)]
    messages.insert(250, s.message(0))
    writes = [partial(store.add_message, message) for message in messages]
    before = store.commits

    outcomes = await gather_in_one_group(store, writes)

    failures = [n for n, outcome in enumerate(outcomes) if outcome is not None]
    assert failures == [250]
    assert isinstance(outcomes[250], AlreadyExists)
    held = 0 if isinstance(store._writer, LoopGroupWriter) else 1  # the holding write's own group
    assert store.commits - before == held + 1
    assert in_order(await store.transcript(s.ORG, "int_1")) == list(range(500))


async def test_within_a_group_the_first_of_two_equal_writes_wins(sql_url: str, open_started: OpenStore) -> None:
    store = cast(SqlStore, await open_started(sql_url))
    first, second = s.message(1), s.message(1, message_id="msg_second")
    writes = [
        lambda: store.add_message(first, s.idempotency("k1")),
        lambda: store.add_message(second, s.idempotency("k2")),
        lambda: store.revoke_client("none", 1.0),
        lambda: store.add_message(s.message(2), s.idempotency("k1")),
    ]

    outcomes = await gather_in_one_group(store, writes)

    assert [type(o).__name__ for o in outcomes] == ["NoneType", "AlreadyExists", "bool", "AlreadyExists"]
    assert await store.transcript(s.ORG, "int_1") == [first]
    assert await store.get_idempotency("key_1", "k2") is None


class _RecordingCursor:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[Any]]] = []

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        self.calls.append(("execute", sql, [params]))

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        self.calls.append(("executemany", sql, list(params)))


def test_a_run_of_one_statement_goes_to_the_driver_at_once_in_its_place() -> None:
    def write(statement: str, params: tuple[int, ...]) -> _Write:
        def run(cursor: Any) -> str:
            cursor.execute(statement or "SELECT custom", params)
            return "ran"

        return _Write(run, False, cast(Any, None), cast(Any, None), statement, params)

    group = [
        write("INSERT a", (1,)),
        write("INSERT a", (2,)),
        write("", (3,)),
        write("INSERT a", (4,)),
        write("INSERT b", (5,)),
        write("INSERT b", (6,)),
        write("INSERT b", (7,)),
    ]
    cursor = _RecordingCursor()

    outcomes = GroupCommitWriter._run_all(cast(Any, cursor), group)

    assert cursor.calls == [
        ("executemany", "INSERT a", [(1,), (2,)]),
        ("execute", "SELECT custom", [(3,)]),
        ("execute", "INSERT a", [(4,)]),
        ("executemany", "INSERT b", [(5,), (6,), (7,)]),
    ]
    assert [result for _error, result in outcomes] == [None, None, "ran", "ran", None, None, None]


async def test_a_write_is_visible_to_another_connection_once_it_returns(sql_url: str, open_started: OpenStore) -> None:
    writer, reader = await open_started(sql_url), await open_started(sql_url)

    for n in range(20):
        await writer.add_organization(s.organization(f"org{n}"))
        assert await reader.get_organization(f"org{n}") is not None


async def test_closing_commits_the_writes_already_queued(sql_url: str) -> None:
    store = open_store(sql_url)
    await store.start()
    pending = [asyncio.ensure_future(store.add_message(s.message(seq))) for seq in range(1, 201)]
    await asyncio.sleep(0)

    await store.close()

    assert all(task.done() and task.exception() is None for task in pending)
    reopened = open_store(sql_url)
    await reopened.start()
    try:
        assert in_order(await reopened.transcript(s.ORG, "int_1")) == list(range(1, 201))
    finally:
        await reopened.close()


async def test_everything_survives_a_restart(sql_url: str, open_started: OpenStore) -> None:
    first = await open_started(sql_url)
    await first.add_organization(s.organization())
    await first.add_client(s.client())
    await first.add_api_key(s.api_key())
    await first.add_token(s.token())
    await first.add_user(s.user())
    await first.add_interaction(s.interaction())
    await first.add_message(s.message(1), s.idempotency())
    await first.get_or_create_secret("signing", "kept")
    await first.close()

    again = await open_started(sql_url)

    assert await again.get_organization(s.ORG) == s.organization()
    assert await again.get_client("cli_1") == s.client()
    assert await again.get_api_key_by_hash("hash_1") == s.api_key()
    assert await again.get_token("tok_1") == s.token()
    assert await again.get_user(s.ORG, "usr_1") == s.user()
    assert await again.open_interactions() == [s.interaction()]
    assert await again.transcript(s.ORG, "int_1") == [s.message(1)]
    assert await again.get_idempotency("key_1", "idem_1") == s.idempotency()
    assert await again.get_or_create_secret("signing", "new") == "kept"


async def test_a_closed_store_refuses_reads_and_writes(sql_url: str) -> None:
    store = open_store(sql_url)
    await store.start()
    await store.close()

    with pytest.raises(StoreClosed):
        await store.add_organization(s.organization())
    with pytest.raises(StoreClosed):
        await store.get_organization(s.ORG)


@pytest.mark.postgres
async def test_a_dropped_connection_fails_no_write_and_no_read(postgres_url: str, open_started: OpenStore) -> None:
    """Every connection is cut (as a restarting database does): the next read and write each
    connect afresh and succeed."""
    import psycopg

    store = cast(SqlStore, await open_started(postgres_url))
    await store.add_organization(s.organization("before"))
    assert await store.get_organization("before") is not None
    cursors = [store._writer._cursor, *store._readers._cursors]
    pids = [cast(psycopg.Cursor[Any], c).connection.info.backend_pid for c in cursors]
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    assert await store.get_organization("before") is not None
    await store.add_organization(s.organization("after"))
    assert await store.get_organization("after") is not None


async def test_sqlite_writes_reach_the_database_file_through_background_checkpoints(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = open_store(f"sqlite:///{path}")
    await store.start()
    try:
        await asyncio.gather(*(store.add_message(s.message(seq)) for seq in range(1, 301)))

        def rows_in_the_file_alone() -> int:
            # immutable=1 reads the database file and ignores the write-ahead log
            with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as db:
                (count,) = db.execute("SELECT count(*) FROM messages").fetchone()
            db.close()
            return int(count)

        for _ in range(40):
            if rows_in_the_file_alone() == 300:
                break
            await asyncio.sleep(0.1)
        assert rows_in_the_file_alone() == 300
    finally:
        await store.close()


def log_generation(wal: Path) -> int:
    """The write-ahead log header's checkpoint sequence number: one more each time the log
    starts afresh (https://www.sqlite.org/fileformat.html#the_write_ahead_log)."""
    with wal.open("rb") as f:
        return int.from_bytes(f.read(16)[12:16], "big")


async def test_a_sqlite_log_starts_afresh_under_sustained_writes(tmp_path: Path) -> None:
    """Commits that never pause would otherwise keep any checkpoint from finishing, and the
    write-ahead log would grow for as long as the load lasts (by hundreds of megabytes here)."""
    path = tmp_path / "parley.db"
    store = cast(SqlStore, open_store(f"sqlite:///{path}"))
    await store.start()
    writer = cast(LoopGroupWriter, store._writer)
    writer._restart_frames, writer._checkpoint_seconds = 64, 0.05
    try:
        loop = asyncio.get_running_loop()
        # Seconds of writes on a quiet machine restart the log many times; a loaded machine
        # commits less often, so the bound is generous and the loop stops at the second restart.
        deadline = loop.time() + 20.0
        seq = 0
        await store.add_message(s.message(seq := seq + 1))
        first = log_generation(tmp_path / "parley.db-wal")
        restarts = 0
        while restarts < 2 and loop.time() < deadline:
            await store.add_message(s.message(seq := seq + 1))  # a commit every turn of the loop
            restarts = log_generation(tmp_path / "parley.db-wal") - first
        assert restarts >= 2
        assert in_order(await store.transcript(s.ORG, "int_1")) == list(range(1, seq + 1))
    finally:
        await store.close()


def test_a_store_serves_the_loop_it_is_used_from_not_only_the_first(sql_url: str) -> None:
    """The writer and the readers remember their loop (asking asyncio costs a system call); a
    store taken over by a new loop must still answer on that loop."""
    store = open_store(sql_url)

    async def first() -> None:
        await store.start()
        await store.add_message(s.message(1))
        assert in_order(await store.transcript(s.ORG, "int_1")) == [1]

    async def second() -> None:
        await store.add_message(s.message(2))
        assert in_order(await store.transcript(s.ORG, "int_1")) == [1, 2]
        await store.close()

    asyncio.run(first())
    asyncio.run(asyncio.wait_for(second(), 10))

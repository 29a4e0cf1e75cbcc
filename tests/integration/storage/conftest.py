"""Every storage contract test runs against each backend: memory, SQLite and PostgreSQL.

PostgreSQL tests get a schema of their own (dropped afterwards), so runs never see each
other's rows, whether they run one after another, side by side or again after a crash.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from parley.adapters.storage import open_store
from parley.service.ports import Store

POSTGRES_URL = os.environ.get("PARLEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

SQL_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
ALL_BACKENDS = ["memory", *SQL_BACKENDS]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    schema = f"parley_test_{uuid.uuid4().hex}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _url_for(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "memory":
        return "memory://"
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'parley.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=ALL_BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _url_for(request.param, request, tmp_path)


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _url_for(request.param, request, tmp_path)


OpenStore = Callable[[str], Awaitable[Store]]


@pytest.fixture
async def open_started() -> AsyncIterator[OpenStore]:
    """Opens and starts stores for a test, and closes every one of them afterwards."""
    opened: list[Store] = []

    async def start(url: str) -> Store:
        store = open_store(url)
        opened.append(store)
        await store.start()
        return store

    yield start
    for store in opened:
        await store.close()


@pytest.fixture
async def store(store_url: str, open_started: OpenStore) -> Store:
    return await open_started(store_url)

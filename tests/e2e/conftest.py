from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import psycopg
import pytest

from tests.e2e.server import Org, ServerProcess, running_server

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    name = f"parley_e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'parley.db'}"
    url: str = request.getfixturevalue("pg_database")
    return url


@pytest.fixture
def server_env() -> dict[str, str]:
    """Override in a test module to tune the server (offer timeout, rate limits...)."""
    return {}


@pytest.fixture
def server(tmp_path: Path, database_url: str, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    with running_server(tmp_path / "data", {"PARLEY_DATABASE_URL": database_url, **server_env}) as s:
        yield s


@pytest.fixture
def org(server: ServerProcess) -> Iterator[Org]:
    creds = server.bootstrap("acme")
    o = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    yield o
    o.http.close()


@pytest.fixture(scope="module")
def module_server_env() -> dict[str, str]:
    """Override in a test module to tune the module's shared server."""
    return {}


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def module_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, module_server_env: dict[str, str]
) -> Iterator[ServerProcess]:
    """One server per backend shared by a module's tests."""
    data = tmp_path_factory.mktemp("server")
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{data / 'parley.db'}"
        else:
            url = stack.enter_context(fresh_postgres_database())
        yield stack.enter_context(running_server(data, {"PARLEY_DATABASE_URL": url, **module_server_env}))


@pytest.fixture(scope="module")
def module_org(module_server: ServerProcess) -> Iterator[Org]:
    creds = module_server.bootstrap(f"org{uuid.uuid4().hex[:8]}")
    o = Org(module_server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    yield o
    o.http.close()


@pytest.fixture(scope="module")
def new_org(module_server: ServerProcess) -> Iterator[Callable[[], Org]]:
    """Make further organizations on the module's server; closed at the end."""
    made: list[Org] = []

    def make() -> Org:
        creds = module_server.bootstrap(f"org{uuid.uuid4().hex[:8]}")
        made.append(Org(module_server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"]))
        return made[-1]

    yield make
    for o in made:
        o.http.close()

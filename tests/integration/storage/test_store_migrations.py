"""Schema migrations and picking a store from its URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from parley.adapters.storage import open_store
from parley.adapters.storage.memory import MemoryStore
from parley.adapters.storage.migrate import HEAD_REVISION, MIGRATIONS, sqlalchemy_url, upgrade_database
from parley.adapters.storage.postgres import PostgresStore
from parley.adapters.storage.sqlite import SqliteStore
from parley.service.ports import InteractionQuery

TABLES = {
    "access_tokens",
    "console_sessions",
    "alembic_version",
    "api_keys",
    "idempotency_keys",
    "interactions",
    "messages",
    "oauth_clients",
    "organizations",
    "server_secrets",
    "sms_delivery_reports",
    "sms_inbound_seen",
    "sms_numbers",
    "user_invites",
    "user_passwords",
    "sms_opt_changes",
    "sms_outbox",
    "users",
    "webhook_deliveries",
    "webhooks",
}


def test_sqlite_migrations_create_the_directory_and_run_once(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "parley.db"

    upgrade_database(f"sqlite:///{path}")
    upgrade_database(f"sqlite:///{path}")

    with sqlite3.connect(path) as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    db.close()
    assert tables == TABLES
    assert version == [(HEAD_REVISION,)]


@pytest.mark.postgres
def test_postgres_migrations_run_once(postgres_url: str) -> None:
    upgrade_database(postgres_url)
    upgrade_database(postgres_url)

    with psycopg.connect(postgres_url) as db:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        tables = {name for (name,) in db.execute(query)}
        version = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert tables == TABLES
    assert version == [(HEAD_REVISION,)]


def test_the_head_revision_the_store_checks_is_the_newest_migration() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD_REVISION]


async def test_a_store_reports_its_schema_revision_and_starts_on_a_current_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    store = SqliteStore(url)
    assert store.schema_revision() is None
    await store.start()
    await store.close()
    assert store.schema_revision() == HEAD_REVISION

    again = SqliteStore(url)
    await again.start()  # nothing to migrate: the check alone decides
    await again.close()


async def test_a_database_behind_the_newest_migration_is_brought_up_to_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    upgrade_database(url, "0001")

    store = SqliteStore(url)
    await store.start()
    await store.close()

    assert store.schema_revision() == HEAD_REVISION
    with sqlite3.connect(tmp_path / "parley.db") as db:
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert tables == TABLES


async def test_interactions_stored_before_their_history_was_kept_are_found_by_their_users(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    upgrade_database(url, "0002")
    with sqlite3.connect(tmp_path / "parley.db") as db:
        db.execute(
            "INSERT INTO interactions (interaction_id, org_id, channel_type, contact_id, contact_name, created_at,"
            " contact_address, contact_email, contact_data, state, agent_ids, monitor_ids, declined_by, last_seq)"
            " VALUES ('int_1', 'acme', 'chat', 'ctc_1', 'Carol', 1.0, '', '', '{}', 'active',"
            " '[\"usr_ada\"]', '[\"usr_sue\"]', '[]', 0)"
        )
    db.close()

    store = SqliteStore(url)
    await store.start()
    try:
        for user_id in ("usr_ada", "usr_sue"):
            page = await store.find_interactions(InteractionQuery("acme", user_id=user_id))
            assert [i.interaction_id for i in page.interactions] == ["int_1"]
        assert (await store.find_interactions(InteractionQuery("acme", user_id="usr_a"))).total == 0
    finally:
        await store.close()


async def test_a_started_sqlite_store_writes_ahead(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'parley.db'}")
    await store.start()
    await store.close()

    with sqlite3.connect(tmp_path / "parley.db") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("memory://", MemoryStore),
        ("sqlite:///data/parley.db", SqliteStore),
        ("sqlite:////var/lib/parley/parley.db", SqliteStore),
        ("postgresql://parley@db/parley", PostgresStore),
        ("postgres://parley@db/parley", PostgresStore),
    ],
)
def test_the_url_scheme_picks_the_store(url: str, kind: type) -> None:
    assert type(open_store(url)) is kind


@pytest.mark.parametrize("url", ["mysql://db/parley", "sqlite://", "sqlite:///:memory:", "parley.db"])
def test_an_unsupported_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        open_store(url)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/d?options=x", "postgresql+psycopg://u@h:5432/d?options=x"),
        ("postgres://u@h/d", "postgresql+psycopg://u@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:////tmp/p.db", "sqlite:////tmp/p.db"),
    ],
)
def test_postgres_urls_name_psycopg_for_sqlalchemy(url: str, expected: str) -> None:
    assert sqlalchemy_url(url) == expected

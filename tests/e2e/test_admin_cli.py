"""The admin CLI through its real entry point: listings, backup and restore, --json everywhere (contract 13)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import fresh_postgres_database
from tests.e2e.server import PARLEY, running_server


def parley(database_url: str, *args: str, path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url}
    if path is not None:
        env["PATH"] = path
    return subprocess.run([PARLEY, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def json_of(database_url: str, *args: str) -> Any:
    done = parley(database_url, *args, "--json")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout  # exactly one JSON object
    return json.loads(lines[0])


def test_organizations_users_keys_and_clients_are_listed(database_url: str) -> None:
    assert json_of(database_url, "admin", "org", "create", "globex")["orgId"] == "globex"
    creds = json_of(database_url, "admin", "bootstrap", "acme")
    user = json_of(
        database_url, "admin", "user", "create", "acme", "--first-name", "Ada", "--last-name", "L", "--email", "a@x.io"
    )
    key = json_of(database_url, "admin", "apikey", "create", "acme", "--name", "desk")
    assert json_of(database_url, "admin", "apikey", "revoke", key["keyId"]) == {"revoked": key["keyId"]}

    assert [o["orgId"] for o in json_of(database_url, "admin", "org", "list")["organizations"]] == ["globex", "acme"]
    assert json_of(database_url, "admin", "user", "list", "acme")["users"] == [
        {"userId": user["userId"], "email": "a@x.io", "name": "Ada L", "roles": "agent"}
    ]
    keys = json_of(database_url, "admin", "apikey", "list", "acme")["apiKeys"]
    assert [(k["keyId"], k["name"], bool(k["revoked"])) for k in keys] == [
        (creds["keyId"], "bootstrap", False),
        (key["keyId"], "desk", True),
    ]
    assert creds["apiKey"] not in json.dumps(keys)  # a key is shown once, at creation
    clients = json_of(database_url, "admin", "client", "list", "acme")["clients"]
    assert [c["clientId"] for c in clients] == [creds["clientId"]] and clients[0]["revoked"] == ""
    text = parley(database_url, "admin", "client", "list", "acme")
    assert text.returncode == 0 and creds["clientId"] in text.stdout
    missing = parley(database_url, "admin", "apikey", "list", "nobody")
    assert (missing.returncode, missing.stderr) == (1, "error: organization nobody does not exist\n")


def test_a_sqlite_backup_taken_while_the_server_runs_restores_into_a_working_database(tmp_path: Path) -> None:
    live = f"sqlite:///{tmp_path / 'live.db'}"
    backup = tmp_path / "parley.backup"
    with running_server(tmp_path / "data", {"PARLEY_DATABASE_URL": live}) as server:
        creds = server.bootstrap("acme")
        assert json_of(live, "admin", "backup", str(backup)) == {"backup": str(backup)}
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    assert json_of(restored, "admin", "restore", str(backup)) == {"restored": str(backup)}
    with running_server(tmp_path / "data2", {"PARLEY_DATABASE_URL": restored}) as server:
        r = httpx.post(
            f"{server.base_url}/tokenservice/oauth2/access_token?realm=acme",
            data={"grant_type": "client_credentials"},
            auth=(creds["clientId"], creds["clientSecret"]),
        )
        assert r.status_code == 200, r.text


@pytest.mark.postgres
def test_a_postgresql_backup_restores_into_another_database(pg_database: str, tmp_path: Path) -> None:
    json_of(pg_database, "admin", "bootstrap", "acme")
    backup = tmp_path / "parley.dump"
    assert parley(pg_database, "admin", "backup", str(backup)).returncode == 0
    with fresh_postgres_database() as other:
        done = parley(other, "admin", "restore", str(backup))
        assert done.returncode == 0, done.stderr
        assert [o["orgId"] for o in json_of(other, "admin", "org", "list")["organizations"]] == ["acme"]


@pytest.mark.postgres
def test_without_postgresql_client_tools_the_backup_says_so(pg_database: str, tmp_path: Path) -> None:
    done = parley(pg_database, "admin", "backup", str(tmp_path / "x.dump"), path=str(tmp_path))
    assert done.returncode == 1
    assert done.stderr.startswith("error: pg_dump is not installed") and "Traceback" not in done.stderr


def test_a_rotated_client_secret_replaces_the_old_one(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    with running_server(tmp_path / "data", {"PARLEY_DATABASE_URL": url}) as server:
        creds = server.bootstrap("acme")

        def token_status(secret: str) -> int:
            return httpx.post(
                f"{server.base_url}/tokenservice/oauth2/access_token?realm=acme",
                data={"grant_type": "client_credentials"},
                auth=(creds["clientId"], secret),
            ).status_code

        assert token_status(creds["clientSecret"]) == 200
        rotated = json_of(url, "admin", "client", "rotate", creds["clientId"])
        assert rotated["clientId"] == creds["clientId"] and rotated["clientSecret"] != creds["clientSecret"]
        deadline = time.monotonic() + 10  # the authentication cache lives 5 s, as for a revocation
        while token_status(rotated["clientSecret"]) != 200:
            assert time.monotonic() < deadline
            time.sleep(0.5)
        assert token_status(creds["clientSecret"]) == 401

"""The ``parley`` command as operators use it."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import PARLEY, running_server


def run(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PARLEY_DATABASE_URL": database_url}
    return subprocess.run([PARLEY, *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_help_lists_every_command() -> None:
    out = run("memory://", "--help").stdout
    for word in ("serve", "db", "admin"):
        assert word in out
    admin = run("memory://", "admin", "--help").stdout
    for word in ("bootstrap", "user", "apikey", "client"):
        assert word in admin


def test_db_upgrade_creates_the_schema(database_url: str) -> None:
    done = run(database_url, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert "up to date" in done.stdout
    assert run(database_url, "db", "upgrade").returncode == 0


def test_bootstrap_prints_exactly_one_json_object(database_url: str) -> None:
    done = run(database_url, "admin", "bootstrap", "acme", "--json")
    assert done.returncode == 0, done.stderr
    creds = json.loads(done.stdout)
    assert set(creds) == {"orgId", "clientId", "clientSecret", "apiKey", "keyId"}
    assert creds["orgId"] == "acme"
    again = run(database_url, "admin", "bootstrap", "acme", "--json")
    assert again.returncode == 1
    assert again.stdout == ""
    assert "acme" in again.stderr and "Traceback" not in again.stderr


def test_admin_creates_users_keys_and_clients(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    run(url, "admin", "bootstrap", "acme", "--json")
    user = run(
        url,
        "admin",
        "user",
        "create",
        "acme",
        "--first-name",
        "Ada",
        "--last-name",
        "L",
        "--email",
        "ada@x.example",
        "--role",
        "supervisor",
        "--json",
    )
    assert user.returncode == 0, user.stderr
    assert json.loads(user.stdout)["roles"] == "supervisor"
    dup = run(
        url, "admin", "user", "create", "acme", "--first-name", "A", "--last-name", "L", "--email", "ADA@x.example"
    )
    assert dup.returncode == 1 and "email" in dup.stderr
    key = json.loads(run(url, "admin", "apikey", "create", "acme", "--json").stdout)
    assert run(url, "admin", "apikey", "revoke", key["keyId"]).returncode == 0
    missing = run(url, "admin", "apikey", "revoke", "key_nothing")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    client = json.loads(run(url, "admin", "client", "create", "acme", "--scope", "messagingapi", "--json").stdout)
    assert client["scopes"] == "messagingapi"
    assert run(url, "admin", "client", "revoke", client["clientId"]).returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ("admin", "bootstrap", "bad org!"),
        ("admin", "user", "create", "nowhere", "--first-name", "A", "--last-name", "B", "--email", "a@b.example"),
        ("admin", "apikey", "create", "nowhere"),
    ],
)
def test_admin_errors_are_clear_and_exit_1(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = run(f"sqlite:///{tmp_path / 'p.db'}", *args)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ")
    assert "Traceback" not in done.stderr


def test_usage_errors_exit_2() -> None:
    assert run("memory://", "admin", "client", "create", "acme", "--scope", "everything").returncode == 2
    assert run("memory://").returncode == 2


def test_unsupported_database_url_is_a_clear_error(tmp_path: Path) -> None:
    done = run("mysql://nope", "db", "upgrade")
    assert done.returncode == 2
    assert "PARLEY_DATABASE_URL" in done.stderr or "database URL" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(("flag", "logged"), [("1", True), ("", False)])
def test_serve_logs_each_request_only_when_asked(tmp_path: Path, flag: str, logged: bool) -> None:
    with running_server(tmp_path / "data", {"PARLEY_ACCESS_LOG": flag, "PARLEY_LOG_LEVEL": "info"}) as server:
        assert httpx.get(server.base_url + "/openapi.json?from=access-log-test").status_code == 200
        deadline = time.monotonic() + 5
        while logged and "access-log-test" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        line = next((x for x in server.log().splitlines() if "access-log-test" in x), "")
    assert bool(line) == logged
    if logged:
        assert '"GET /openapi.json?from=access-log-test HTTP/1.1" 200' in line

"""The ``parley`` command: run the server, manage the database, administer organizations."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import faulthandler
import gc
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from parley import _native as native
from parley import cli_admin
from parley.cli_signin import demo_passwords
from parley.cli_signin import register as register_signin_commands
from parley.clock import SystemClock
from parley.domain.accounts import ALL_SCOPES
from parley.domain.errors import ParleyError
from parley.service.accounts import Accounts, NewUser
from parley.service.sms import SmsNumbers
from parley.settings import ConfigurationError, Settings
from parley_terminal import register as register_terminal_clients

DEMO_ORG = "demo"
GRACEFUL_STOP_SECONDS = 5  # open connections' time to finish once their streams have ended
STOP_LIMIT_SECONDS = 30  # from the first stop step, after open connections had their 5 s


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
        return result
    except ParleyError as exc:
        print(f"error: {exc.problems[0].message}", file=sys.stderr)
        return 1
    except ConfigurationError as exc:
        print(f"error: configuration: {exc.name}: {exc.why}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="parley",
        description="Parley: a self-hosted chat and SMS messaging hub (Alvaria Messaging API v2.0.1). "
        "Every command reads the database from PARLEY_DATABASE_URL (default: a SQLite file in ./data).",
    )
    sub = p.add_subparsers(title="commands")

    serve = sub.add_parser("serve", help="run the HTTP server")
    serve.add_argument("--host", help="address to listen on (default PARLEY_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default PARLEY_PORT or 8080)")
    serve.add_argument("--demo", action="store_true", help="create a demo organization and print its credentials")
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(title="db commands")
    up = db.add_parser("upgrade", help="apply every pending migration")
    up.add_argument("--json", action="store_true")
    up.set_defaults(run=_db_upgrade)

    admin = sub.add_parser("admin", help="organizations, users and credentials").add_subparsers(title="admin commands")
    boot = admin.add_parser("bootstrap", help="create an organization with one client (all scopes) and one API key")
    boot.add_argument("org", help="organization id, e.g. acme")
    boot.add_argument("--json", action="store_true", help="print exactly one JSON object")
    boot.set_defaults(run=_bootstrap)

    user = admin.add_parser("user", help="users").add_subparsers(title="user commands")
    uc = user.add_parser("create", help="create a user")
    uc.add_argument("org")
    uc.add_argument("--first-name", required=True)
    uc.add_argument("--last-name", required=True)
    uc.add_argument("--email", required=True)
    uc.add_argument("--preferred-name", default="")
    uc.add_argument("--role", action="append", choices=["agent", "supervisor"], help="repeatable; default agent")
    uc.add_argument("--json", action="store_true")
    uc.set_defaults(run=_user_create)
    register_signin_commands(user)

    key = admin.add_parser("apikey", help="API keys").add_subparsers(title="apikey commands")
    kc = key.add_parser("create", help="create an API key (shown once)")
    kc.add_argument("org")
    kc.add_argument("--name", default="")
    kc.add_argument("--json", action="store_true")
    kc.set_defaults(run=_apikey_create)
    kr = key.add_parser("revoke", help="revoke an API key by its id")
    kr.add_argument("key_id")
    kr.add_argument("--json", action="store_true")
    kr.set_defaults(run=_apikey_revoke)

    client = admin.add_parser("client", help="OAuth clients").add_subparsers(title="client commands")
    cc = client.add_parser("create", help="create an OAuth client (secret shown once)")
    cc.add_argument("org")
    cc.add_argument("--scope", action="append", choices=sorted(ALL_SCOPES), help="repeatable; default all")
    cc.add_argument("--name", default="")
    cc.add_argument("--json", action="store_true")
    cc.set_defaults(run=_client_create)
    cr = client.add_parser("revoke", help="revoke an OAuth client and every token it holds")
    cr.add_argument("client_id")
    cr.add_argument("--json", action="store_true")
    cr.set_defaults(run=_client_revoke)
    rot = client.add_parser("rotate", help="give a client a new secret (shown once); the old one and its tokens stop")
    rot.add_argument("client_id")
    rot.add_argument("--json", action="store_true")
    rot.set_defaults(run=_client_rotate)

    number = admin.add_parser("number", help="SMS sender numbers").add_subparsers(title="number commands")
    na = number.add_parser("add", help="give an organization a sender number (E.164, e.g. +4930901820)")
    na.add_argument("org")
    na.add_argument("number")
    na.add_argument("--json", action="store_true")
    na.set_defaults(run=_number_add)
    nl = number.add_parser("list", help="an organization's sender numbers")
    nl.add_argument("org")
    nl.add_argument("--json", action="store_true", help="print one JSON object")
    nl.set_defaults(run=_number_list)
    nr = number.add_parser("remove", help="take a sender number away from an organization")
    nr.add_argument("org")
    nr.add_argument("number")
    nr.add_argument("--json", action="store_true")
    nr.set_defaults(run=_number_remove)

    cli_admin.register(admin, user, key, client, _with_accounts)
    register_terminal_clients(sub)
    return p


# -- helpers --------------------------------------------------------------------------------------
def _with_accounts(work: Callable[[Accounts], Awaitable[Any]]) -> Any:
    from parley.adapters.storage import open_store

    settings = Settings.from_env()

    async def run() -> Any:
        store = open_store(settings.database_url)
        await store.start()
        try:
            return await work(Accounts(store, SystemClock()))
        finally:
            await store.close()

    return asyncio.run(run())


def _print(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(data))
    else:
        width = max(len(k) for k in data)
        for k, v in data.items():
            print(f"{k:<{width}}  {v}")


# -- commands -------------------------------------------------------------------------------------
def _db_upgrade(args: argparse.Namespace) -> int:
    from parley.adapters.storage.migrate import upgrade_database

    upgrade_database(Settings.from_env().database_url)
    cli_admin.say({"upToDate": True}, "database is up to date", args.json)
    return 0


async def _bootstrap_org(accounts: Accounts, org_id: str) -> dict[str, str]:
    await accounts.create_organization(org_id)
    client = await accounts.create_client(org_id, ALL_SCOPES, "bootstrap")
    key = await accounts.create_api_key(org_id, "bootstrap")
    return {
        "orgId": org_id,
        "clientId": client.client.client_id,
        "clientSecret": client.secret,
        "apiKey": key.value,
        "keyId": key.key.key_id,
    }


def _bootstrap(args: argparse.Namespace) -> int:
    _print(_with_accounts(lambda a: _bootstrap_org(a, args.org)), args.json)
    return 0


def _user_create(args: argparse.Namespace) -> int:
    new = NewUser(args.first_name, args.last_name, args.email, args.preferred_name, tuple(args.role or ["agent"]))
    user = _with_accounts(lambda a: a.create_user(args.org, new))
    _print({"userId": user.user_id, "email": user.email, "roles": ",".join(user.roles)}, args.json)
    return 0


def _apikey_create(args: argparse.Namespace) -> int:
    issued = _with_accounts(lambda a: a.create_api_key(args.org, args.name))
    _print({"keyId": issued.key.key_id, "apiKey": issued.value}, args.json)
    return 0


def _apikey_revoke(args: argparse.Namespace) -> int:
    _with_accounts(lambda a: a.revoke_api_key(args.key_id))
    cli_admin.say({"revoked": args.key_id}, f"revoked {args.key_id}", args.json)
    return 0


def _client_create(args: argparse.Namespace) -> int:
    issued = _with_accounts(lambda a: a.create_client(args.org, args.scope or ALL_SCOPES, args.name))
    _print(
        {
            "clientId": issued.client.client_id,
            "clientSecret": issued.secret,
            "scopes": " ".join(sorted(issued.client.scopes)),
        },
        args.json,
    )
    return 0


def _client_revoke(args: argparse.Namespace) -> int:
    _with_accounts(lambda a: a.revoke_client(args.client_id))
    cli_admin.say({"revoked": args.client_id}, f"revoked {args.client_id} and its tokens", args.json)
    return 0


def _client_rotate(args: argparse.Namespace) -> int:
    secret = _with_accounts(lambda a: a.rotate_client_secret(args.client_id))
    _print({"clientId": args.client_id, "clientSecret": secret}, args.json)
    return 0


def _with_numbers(work: Callable[[SmsNumbers], Awaitable[Any]]) -> Any:
    region = Settings.from_env().sms_default_region or None
    return _with_accounts(lambda a: work(SmsNumbers(a.store, a.clock, region)))


def _number_add(args: argparse.Namespace) -> int:
    added = _with_numbers(lambda n: n.add(args.org, args.number))
    cli_admin.say(
        {"orgId": added.org_id, "number": added.number}, f"{added.number} now belongs to {added.org_id}", args.json
    )
    return 0


def _number_list(args: argparse.Namespace) -> int:
    numbers = _with_numbers(lambda n: n.list(args.org))
    if args.json:
        print(json.dumps({"orgId": args.org, "numbers": [n.number for n in numbers]}))
    else:
        for n in numbers:
            print(n.number)
    return 0


def _number_remove(args: argparse.Namespace) -> int:
    removed = _with_numbers(lambda n: n.remove(args.org, args.number))
    cli_admin.say({"orgId": args.org, "removed": removed}, f"removed {removed} from {args.org}", args.json)
    return 0


async def _demo(accounts: Accounts, path: Path) -> dict[str, Any]:
    """The demo organization's credentials: created once, kept (readable only by the owner) in the data dir."""
    if path.exists():
        saved: dict[str, Any] = json.loads(path.read_text())
        return saved
    creds: dict[str, Any] = await _bootstrap_org(accounts, DEMO_ORG)
    users = []
    for first, last, email, roles in (
        ("Ada", "Agent", "ada@demo.example", ("agent",)),
        ("Sam", "Supervisor", "sam@demo.example", ("agent", "supervisor")),
    ):
        user = await accounts.create_user(DEMO_ORG, NewUser(first, last, email, first, roles))
        users.append({"userId": user.user_id, "name": f"{first} {last}", "email": email, "roles": list(roles)})
    creds["users"] = users
    _save_demo(creds, path)
    return creds


def _save_demo(creds: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(creds, f, indent=2)


def _serve(args: argparse.Namespace) -> int:
    from parley import logs
    from parley.api.server import DrainingServer, http_config
    from parley.bootstrap import build

    settings = Settings.from_env()
    host = args.host or settings.host
    port = args.port or settings.port
    settings = dataclasses.replace(settings, host=host, port=port)
    log_config = logs.configure(settings.log_level, settings.log_format)
    logging.getLogger("parley").info("hot path: %s", native.STATUS)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.demo:
        saved = settings.data_dir / "demo-credentials.json"
        creds = _with_accounts(lambda a: _demo(a, saved))
        if demo_passwords(creds):
            _save_demo(creds, saved)
        _print_demo(creds, host, port)
    parley = build(settings)
    app = parley.asgi()
    app.on_startup.append(_settle_garbage_collector)
    app.on_shutdown.insert(0, _exit_if_stop_hangs)
    config = http_config(
        app,
        host,
        port,
        loop="uvloop",
        access_log=settings.access_log,
        log_level=settings.log_level.lower(),
        log_config=log_config,
        graceful_stop_seconds=GRACEFUL_STOP_SECONDS,
    )
    server = DrainingServer(config, parley.drain)
    server.run()
    return 0 if server.started else 3  # 3: uvicorn's status for a failed startup


async def _settle_garbage_collector() -> None:
    """Everything alive once the server is up (modules, routes, caches) lives until it stops.

    Frozen, it is skipped by every collection; without that a full collection walks all of it
    about once a second under load and stalls the event loop for tens of milliseconds. The
    higher first-generation threshold makes young collections rarer for a server that
    allocates many short-lived objects per request and few cycles.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)


async def _exit_if_stop_hangs() -> None:
    """A stop always ends: if the process still runs this long after its stop began, exit.

    Every thread's stack goes to the log first, so the step that hung can be found. Nothing
    acknowledged is lost by it: a 202 is only ever sent after its message is committed.
    """
    faulthandler.dump_traceback_later(STOP_LIMIT_SECONDS, exit=True)


def _print_demo(creds: dict[str, Any], host: str, port: int) -> None:
    base = f"http://{host}:{port}"
    print("\nParley demo organization (kept in the data directory; shown on every start)")
    print(f"  org id         {creds['orgId']}")
    print(f"  client id      {creds['clientId']}")
    print(f"  client secret  {creds['clientSecret']}")
    print(f"  API key        {creds['apiKey']}")
    for user in creds["users"]:
        print(f"  user           {user['userId']}  {user['name']} <{user['email']}> ({', '.join(user['roles'])})")
        print(f"                 console password  {user['password']}")
    print(f"  console        {base}/console?org={creds['orgId']}")
    print(f"  API docs       {base}/docs")
    print(f"  web chat demo  {base}/demo\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())

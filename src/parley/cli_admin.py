"""``parley admin``'s listing, backup and restore commands (contract 13), each with ``--json``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from parley.clock import iso
from parley.service.accounts import Accounts
from parley.settings import Settings

WithAccounts = Callable[[Callable[[Accounts], Awaitable[Any]]], Any]
Rows = Callable[[argparse.Namespace, Accounts], Awaitable[list[dict[str, Any]]]]


def register(admin: Any, user: Any, key: Any, client: Any, with_accounts: WithAccounts) -> None:
    """Add the commands to the subparsers of ``parley admin`` and of its groups."""

    def command(group: Any, name: str, help_text: str, run: Callable[[argparse.Namespace], int], *args: str) -> None:
        parser = group.add_parser(name, help=help_text)
        for arg in args:
            parser.add_argument(arg)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.set_defaults(run=run)

    def listing(title: str, rows: Rows) -> Callable[[argparse.Namespace], int]:
        def run(args: argparse.Namespace) -> int:
            found: list[dict[str, Any]] = with_accounts(lambda a: rows(args, a))
            if args.json:
                print(json.dumps({title: found}))
            for row in [] if args.json else found:
                print("  ".join(str(v) for v in row.values()))
            return 0

        return run

    org = admin.add_parser("org", help="organizations").add_subparsers(title="org commands")

    async def orgs(args: argparse.Namespace, a: Accounts) -> list[dict[str, Any]]:
        return [{"orgId": o.org_id, "created": iso(o.created_at)} for o in await a.store.list_organizations()]

    async def users(args: argparse.Namespace, a: Accounts) -> list[dict[str, Any]]:
        await a.require_organization(args.org)
        found, token = [], None
        while True:
            page = await a.find_users(args.org, None, None, 1000, token)
            found += [
                {"userId": u.user_id, "email": u.email, "name": u.full_name, "roles": ",".join(u.roles)}
                for u in page.users
            ]
            token = page.continuation_token
            if token is None:
                return found

    async def keys(args: argparse.Namespace, a: Accounts) -> list[dict[str, Any]]:
        return [
            {"keyId": k.key_id, "name": k.name, "created": iso(k.created_at), "revoked": _when(k.revoked_at)}
            for k in await a.api_keys(args.org)
        ]

    async def clients(args: argparse.Namespace, a: Accounts) -> list[dict[str, Any]]:
        return [
            {
                "clientId": c.client_id,
                "name": c.name,
                "scopes": " ".join(sorted(c.scopes)),
                "created": iso(c.created_at),
                "revoked": _when(c.revoked_at),
            }
            for c in await a.clients(args.org)
        ]

    def org_create(args: argparse.Namespace) -> int:
        created = with_accounts(lambda a: a.create_organization(args.org))
        say({"orgId": created.org_id, "created": iso(created.created_at)}, f"created {created.org_id}", args.json)
        return 0

    command(org, "list", "every organization", listing("organizations", orgs))
    command(org, "create", "create an organization (no credentials: see bootstrap)", org_create, "org")
    command(user, "list", "an organization's users", listing("users", users), "org")
    command(
        key,
        "list",
        "an organization's API keys (ids and names; keys are never shown again)",
        listing("apiKeys", keys),
        "org",
    )
    command(client, "list", "an organization's OAuth clients", listing("clients", clients), "org")
    command(
        admin,
        "backup",
        "copy the database to FILE (SQLite: online, while the server runs; PostgreSQL: pg_dump)",
        _backup,
        "file",
    )
    command(admin, "restore", "replace the database's contents with FILE (stop every server first)", _restore, "file")


def say(data: dict[str, Any], text: str, as_json: bool) -> None:
    """One JSON object with --json, else a sentence."""
    print(json.dumps(data) if as_json else text)


def _when(at: float | None) -> str:
    return "" if at is None else iso(at)


def _backup(args: argparse.Namespace) -> int:
    from parley.adapters.storage.backup import backup

    done = backup(Settings.from_env().database_url, Path(args.file))
    say({"backup": args.file}, done, args.json)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from parley.adapters.storage.backup import restore

    done = restore(Settings.from_env().database_url, Path(args.file))
    say({"restored": args.file}, done, args.json)
    return 0

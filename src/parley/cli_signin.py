"""``parley admin user password|invite``: how a user gets a console password (contract 12)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import secrets
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from parley.clock import SystemClock
from parley.domain.errors import InvalidRequest
from parley.service.accounts import Accounts
from parley.service.signin import SignIn
from parley.service.tokens import Authenticator
from parley.settings import Settings

T = TypeVar("T")


def register(user: Any) -> None:
    """Add the two commands to ``parley admin user``'s subparsers."""
    pw = user.add_parser("password", help="set a user's console password (prompted, or one line of --stdin)")
    pw.add_argument("org")
    pw.add_argument("email")
    pw.add_argument("--stdin", action="store_true", help="read the password from standard input")
    pw.set_defaults(run=_password)
    inv = user.add_parser("invite", help="print a one-time link, valid 24 h, where the user chooses a password")
    inv.add_argument("org")
    inv.add_argument("email")
    inv.add_argument("--base-url", help="the server's address as users reach it (default: from PARLEY_HOST/PORT)")
    inv.add_argument("--json", action="store_true")
    inv.set_defaults(run=_invite)


def with_signin(work: Callable[[SignIn], Awaitable[T]]) -> T:
    from parley.adapters.storage import open_store

    settings = Settings.from_env()

    async def run() -> T:
        store = open_store(settings.database_url)
        await store.start()
        try:
            clock = SystemClock()
            return await work(SignIn(store, clock, Accounts(store, clock), Authenticator(store, clock, 0)))
        finally:
            await store.close()

    return asyncio.run(run())


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != password:
        raise InvalidRequest.of("password", "passwordMismatch", "the two passwords differ")
    return password


def _password(args: argparse.Namespace) -> int:
    password = _read_password(args.stdin)
    user = with_signin(lambda s: s.set_password(args.org, args.email, password))
    print(f"password set for {user.email} ({user.user_id})")
    return 0


def invite_link(base_url: str, secret: str) -> str:
    # The secret travels in the fragment, which browsers never send: it stays out of server logs.
    return f"{base_url.rstrip('/')}/console#invite={secret}"


def _invite(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    base = args.base_url or f"http://{settings.host}:{settings.port}"
    user, secret = with_signin(lambda s: s.invite(args.org, args.email))
    link = invite_link(base, secret)
    if args.json:
        print(json.dumps({"userId": user.user_id, "email": user.email, "link": link}))
    else:
        print(f"one-time link for {user.email}, valid 24 h:\n{link}")
    return 0


def demo_passwords(creds: dict[str, Any]) -> bool:
    """Give each demo user without one a generated console password; True if any was added."""
    missing = [u for u in creds["users"] if "password" not in u]

    async def work(signin: SignIn) -> None:
        for user in missing:
            user["password"] = secrets.token_urlsafe(12)
            await signin.set_password(creds["orgId"], user["email"], user["password"])

    if missing:
        with_signin(work)
    return bool(missing)

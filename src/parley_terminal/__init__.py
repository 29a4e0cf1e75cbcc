"""Terminal clients built on the SDK: ``parley agent`` (an agent desktop) and ``parley chat`` (a customer).

Options fall back to environment variables (``PARLEY_URL``, ``PARLEY_ORG``, ``PARLEY_USER``,
``PARLEY_CLIENT_ID``, ``PARLEY_CLIENT_SECRET``, ``PARLEY_API_KEY``), and the two secrets may be read
from a file (``--client-secret-file``, ``--api-key-file`` or ``PARLEY_CLIENT_SECRET_FILE``,
``PARLEY_API_KEY_FILE``), so they need not show in ``ps`` or sit in the shell history.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"


def register(sub: Any) -> None:
    """Add the ``agent`` and ``chat`` commands to the ``parley`` command's subparsers."""
    agent = sub.add_parser("agent", help="chat with customers as a provisioned user, in the terminal")
    _common(agent)
    _option(agent, "--client-id", "PARLEY_CLIENT_ID", "OAuth client id")
    _secret(agent, "--client-secret", "PARLEY_CLIENT_SECRET", "OAuth client secret")
    _secret(agent, "--api-key", "PARLEY_API_KEY", "API key")
    _option(agent, "--user", "PARLEY_USER", "the user's email or user id")
    agent.add_argument("--auto-accept", action="store_true", help="accept every offer at once")
    agent.set_defaults(run=run_agent)

    chat = sub.add_parser("chat", help="chat with an organization's agents as a web-chat customer")
    _common(chat)
    chat.add_argument("--name", required=True, help="the name the agent sees")
    chat.set_defaults(run=run_chat)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get("PARLEY_URL", DEFAULT_URL), help="the server (PARLEY_URL)")
    _option(parser, "--org", "PARLEY_ORG", "organization id")


def _option(parser: argparse.ArgumentParser, flag: str, env: str, what: str) -> None:
    value = os.environ.get(env)
    parser.add_argument(flag, default=value, required=value is None, help=f"{what} (default: ${env})")


def _secret(parser: argparse.ArgumentParser, flag: str, env: str, what: str) -> None:
    """A secret from the flag, its environment variable, or a file named by ``FLAG-file`` / ``ENV_FILE``."""
    parser.add_argument(flag, default=os.environ.get(env), help=f"{what} (default: ${env}; visible in ps)")
    path = os.environ.get(f"{env}_FILE")
    parser.add_argument(f"{flag}-file", default=path, type=Path, help=f"a file holding the {what} (${env}_FILE)")


def read_secret(args: argparse.Namespace, name: str) -> str:
    """The secret ``name`` as given by value or, failing that, by file (its first line)."""
    value: str | None = getattr(args, name)
    path: Path | None = getattr(args, f"{name}_file")
    if value is None and path is not None:
        lines = path.read_text(encoding="utf-8").splitlines()
        value = lines[0].strip() if lines else ""
    if not value:
        flag = "--" + name.replace("_", "-")
        raise SystemExit(f"parley agent: give {flag} or {flag}-file (or their environment variables)")
    return value


def run_agent(args: argparse.Namespace) -> int:
    from parley_client import AsyncClient
    from parley_terminal.agent import AgentApp

    client_secret, api_key = read_secret(args, "client_secret"), read_secret(args, "api_key")

    async def main() -> int:
        async with AsyncClient(
            args.url, org=args.org, client_id=args.client_id, client_secret=client_secret, api_key=api_key
        ) as client:
            return await AgentApp(client, args.user, args.auto_accept).run()

    return asyncio.run(main())


def run_chat(args: argparse.Namespace) -> int:
    from parley_client import AsyncWebChatClient
    from parley_terminal.chat import CustomerApp

    async def main() -> int:
        async with AsyncWebChatClient(args.url, org=args.org) as client:
            return await CustomerApp(client, args.name).run()

    return asyncio.run(main())

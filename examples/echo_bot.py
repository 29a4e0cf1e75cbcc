"""An agent bot: goes ready, accepts every offer and echoes each customer text back.

    python examples/echo_bot.py --url http://127.0.0.1:8080 --org demo --user ada@demo.example \\
        --client-id CLIENT_ID --client-secret CLIENT_SECRET --api-key API_KEY

Every option may come from the environment instead: PARLEY_URL, PARLEY_ORG, PARLEY_USER,
PARLEY_CLIENT_ID, PARLEY_CLIENT_SECRET, PARLEY_API_KEY. Stop it with Ctrl-C or SIGTERM: it
signs out (ending its streaming session) before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal

from parley_client import (
    AsyncClient,
    BaseEvent,
    DisconnectedEvent,
    Gone,
    NotFound,
    OfferedEvent,
    TextEvent,
    Unprocessable,
)


async def echo(client: AsyncClient, user: str, max_chats: int) -> None:
    found = await client.find_users(email=user) if "@" in user else None
    user_id = found.users[0].user_id if found and found.users else user
    await client.start_session(user_id)
    try:
        await client.ready(max_concurrent=max_chats)
        print(f"echo bot ready as {user_id}", flush=True)
        async for event in client.events():
            try:
                await answer(client, event)
            except (Gone, NotFound, Unprocessable) as exc:  # that customer left, or the offer went elsewhere
                print(f"skipped: {exc}", flush=True)  # the other chats are served on
    finally:
        await client.end_session()


async def answer(client: AsyncClient, event: BaseEvent) -> None:
    if isinstance(event, OfferedEvent):
        await client.accept(event.payload.interaction_id, event.payload.ehub_session_id)
        print(f"accepted {event.payload.interaction_id} from {event.payload.contact_name}", flush=True)
    elif isinstance(event, TextEvent) and event.payload.entity_type == "Contact":
        interaction = event.payload.interaction_id
        async with client.typing(interaction, expires=2):  # the customer sees the bot typing
            await asyncio.sleep(0.2)
        await client.send_text(interaction, f"You said: {event.payload.text}")
    elif isinstance(event, DisconnectedEvent):
        print(f"{event.payload.interaction_id} ended", flush=True)


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=env("PARLEY_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--org", default=env("PARLEY_ORG"))
    parser.add_argument("--user", default=env("PARLEY_USER"), help="email or user id of a provisioned user")
    parser.add_argument("--client-id", default=env("PARLEY_CLIENT_ID"))
    parser.add_argument("--client-secret", default=env("PARLEY_CLIENT_SECRET"))
    parser.add_argument("--api-key", default=env("PARLEY_API_KEY"))
    parser.add_argument("--max-chats", type=int, default=5, help="chats at the same time")
    args = parser.parse_args()
    missing = [name for name in ("org", "user", "client_id", "client_secret", "api_key") if not getattr(args, name)]
    if missing:
        parser.error("missing " + ", ".join("--" + name.replace("_", "-") for name in missing))

    async def run() -> None:
        async with AsyncClient(
            args.url,
            org=args.org,
            client_id=args.client_id,
            client_secret=args.client_secret,
            api_key=args.api_key,
            entity_name="Echo Bot",
        ) as client:
            bot = asyncio.create_task(echo(client, args.user, args.max_chats))
            await until_stopped(bot)

    asyncio.run(run())


async def until_stopped(bot: asyncio.Task[None], grace: float = 5.0) -> None:
    """Run ``bot`` until it ends or SIGINT/SIGTERM arrives; then cancel it and let it sign out."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({bot, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    async with asyncio.timeout(grace):
        while not bot.done():  # asked again should anything below swallow the first request
            bot.cancel()
            await asyncio.wait({bot}, timeout=0.5)
    error = None if bot.cancelled() else bot.exception()
    if error is not None:
        raise error


if __name__ == "__main__":
    main()

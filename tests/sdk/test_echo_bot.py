"""``examples/echo_bot.py`` runs against a real server and web-chat customers get their echoes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from parley_client import ActiveEvent, TextEvent
from tests.sdk.conftest import Org
from tests.sdk.waiting import next_of

ECHO_BOT = Path(__file__).parents[2] / "examples" / "echo_bot.py"


async def test_the_echo_bot_answers_every_customer_text(org: Org) -> None:
    bot = org.user("Echo", "Bot")
    env = {
        **os.environ,
        "PARLEY_URL": org.url,
        "PARLEY_ORG": org.org_id,
        "PARLEY_USER": bot.email,
        "PARLEY_CLIENT_ID": org.client_id,
        "PARLEY_CLIENT_SECRET": org.client_secret,
        "PARLEY_API_KEY": org.api_key,
    }
    with subprocess.Popen([sys.executable, str(ECHO_BOT)], env=env, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            assert "echo bot ready" in await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 15)
            async with org.async_customer() as carla, org.async_customer() as dora:
                await carla.start_chat("Carla")
                await dora.start_chat("Dora")
                carla_events, dora_events = carla.events(poll_timeout=2), dora.events(poll_timeout=2)
                await next_of(carla_events, ActiveEvent)
                await next_of(dora_events, ActiveEvent)
                for n in range(3):
                    await carla.send_text(f"hello {n}")
                await dora.send_text("bonjour")
                echoes = [await next_of(carla_events, TextEvent, entity_type="Agent") for _ in range(3)]
                assert [e.payload.text for e in echoes] == [f"You said: hello {n}" for n in range(3)]
                assert echoes[0].payload.entity_name == "Echo Bot"
                assert (await next_of(dora_events, TextEvent, entity_type="Agent")).payload.text == "You said: bonjour"
                await carla_events.aclose()
                await dora_events.aclose()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(10)

"""``examples/echo_bot.py`` runs against a real server and web-chat customers get their echoes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from parley_client import ActiveEvent, TextEvent
from tests.sdk.conftest import Org
from tests.sdk.waiting import next_of_sync

ECHO_BOT = Path(__file__).parents[2] / "examples" / "echo_bot.py"


def test_the_echo_bot_answers_every_customer_text(org: Org) -> None:
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
            assert "echo bot ready" in process.stdout.readline()
            with org.web_chat() as carla, org.web_chat() as dora:
                carla.start_chat("Carla")
                dora.start_chat("Dora")
                carla_events, dora_events = carla.events(poll_timeout=2), dora.events(mode="websocket")
                next_of_sync(carla_events, ActiveEvent)
                next_of_sync(dora_events, ActiveEvent)
                for n in range(3):
                    carla.send_text(f"hello {n}")
                dora.send_text("bonjour")
                echoes = [next_of_sync(carla_events, TextEvent, entity_type="Agent") for _ in range(3)]
                assert [e.payload.text for e in echoes] == [f"You said: hello {n}" for n in range(3)]
                assert echoes[0].payload.entity_name == "Echo Bot"
                assert next_of_sync(dora_events, TextEvent, entity_type="Agent").payload.text == "You said: bonjour"
                carla_events.close()
                dora_events.close()
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    assert process.returncode == 0  # Ctrl-C is a clean stop: signed out, no traceback

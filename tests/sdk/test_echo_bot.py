"""``examples/echo_bot.py`` runs against a real server and web-chat customers get their echoes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from parley_client import ActiveEvent, TextEvent
from tests.sdk.conftest import Org
from tests.sdk.waiting import next_of_sync

ECHO_BOT = Path(__file__).parents[2] / "examples" / "echo_bot.py"


@contextlib.contextmanager
def echo_bot(org: Org) -> Iterator[subprocess.Popen[str]]:
    """The bot running as a provisioned user, ready; stopped with Ctrl-C at the end, which must be clean."""
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
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                raise
    assert process.returncode == 0  # Ctrl-C is a clean stop: signed out, no traceback


def test_the_echo_bot_answers_every_customer_text(org: Org) -> None:
    with echo_bot(org), org.web_chat() as carla, org.web_chat() as dora:
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


def test_a_customer_who_leaves_before_the_echo_does_not_stop_the_bot_serving_others(org: Org) -> None:
    with echo_bot(org) as bot, org.web_chat() as carla, org.web_chat() as dora:
        carla.start_chat("Carla")
        with carla.events(poll_timeout=2) as carla_events:
            next_of_sync(carla_events, ActiveEvent)
        bot.send_signal(signal.SIGSTOP)  # the bot reads Carla's text only once she has left
        try:
            carla.send_text("bye")
            carla.disconnect()
        finally:
            bot.send_signal(signal.SIGCONT)
        dora.start_chat("Dora")
        with dora.events(poll_timeout=2) as dora_events:
            next_of_sync(dora_events, ActiveEvent)
            dora.send_text("still there?")
            assert next_of_sync(dora_events, TextEvent, entity_type="Agent").payload.text == "You said: still there?"

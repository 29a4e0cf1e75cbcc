"""``parley agent`` and ``parley chat`` in real terminals (pexpect), through a whole conversation."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pexpect

from tests.e2e.server import PARLEY
from tests.sdk.conftest import Org

STYLING = r"(?:\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\)*"  # colours and hyperlinks between words


def shown(*parts: str) -> str:
    """A pattern for text as rich draws it: the parts in order, maybe styled in between."""
    return STYLING.join(re.escape(part) for part in parts)


def terminal(*args: str, env: dict[str, str] | None = None) -> pexpect.spawn[str]:
    """``parley ARGS`` in a terminal, with no PARLEY_* variable but those of ``env``."""
    mine = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_") and k != "NO_COLOR"}
    env = {**mine, "TERM": "xterm-256color", "COLUMNS": "140", "LINES": "40", **(env or {})}
    child = pexpect.spawn(PARLEY, list(args), env=env, encoding="utf-8", timeout=10, dimensions=(40, 140))
    return child


def test_an_agent_and_a_customer_chat_in_their_terminals(org: Org) -> None:
    ada = org.user("Ada", "Lovelace")
    agent = terminal(
        "agent",
        *("--url", org.url, "--org", org.org_id, "--user", ada.email),
        *("--client-id", org.client_id, "--client-secret", org.client_secret, "--api-key", org.api_key),
    )
    customer = terminal("chat", "--url", org.url, "--org", org.org_id, "--name", "Carla")
    try:
        agent.expect(f"Signed in to {org.org_id} as Ada")
        agent.expect("waiting for offers")
        customer.expect("Waiting for an agent")

        agent.expect(shown("Offer: chat from Carla"))
        agent.send("/accept\r")
        agent.expect("Connected with Carla")
        customer.expect("Ada joined the chat")

        customer.send("Hi, my order is late")  # keys only: the agent sees her typing
        agent.expect("Carla is typing")
        customer.send("\r")
        agent.expect(shown("Carla: ", "Hi, my order is late"))
        customer.expect(shown("you: ", "Hi, my order is late"))

        agent.send("Sorry! See https://help.example/late")
        customer.expect("Ada is typing")
        agent.send("\r")
        customer.expect(shown("Ada: ", "Sorry! See ") + r"\x1b\]8;[^;]*;https://help\.example/late")
        agent.send("/url https://shop.example/orders/42\r")
        customer.expect(shown("Ada: ", "🔗 ") + r"\x1b\]8;[^;]*;https://shop\.example/orders/42")
        customer.send("/url https://photos.example/box.jpg\r")
        agent.expect(shown("Carla: ", "🔗 ") + r"\x1b\]8;[^;]*;https://photos\.example/box\.jpg")

        agent.send("/end\r")
        agent.expect("The chat was ended by you")
        customer.expect("The chat was ended by the agent")
        customer.expect(pexpect.EOF)
        agent.send("/quit\r")
        agent.expect(pexpect.EOF)
    finally:
        for child in (agent, customer):
            child.close(force=True)
    assert customer.exitstatus == 0 and agent.exitstatus == 0


def test_a_customer_can_leave_before_an_agent_answers(org: Org) -> None:
    customer = terminal("chat", "--url", org.url, "--org", org.org_id, "--name", "Dora")
    try:
        customer.expect("Waiting for an agent")
        customer.send("/end\r")
        customer.expect("You left the chat")
        customer.expect(pexpect.EOF)
    finally:
        customer.close(force=True)
    assert customer.exitstatus == 0


def test_an_agent_lists_the_users_and_transfers_a_chat_to_a_colleague(org: Org) -> None:
    ada, bob = org.user("Ada", "Lovelace"), org.user("Bob", "Babbage")
    credentials = ("--client-id", org.client_id, "--client-secret", org.client_secret, "--api-key", org.api_key)
    first = terminal("agent", "--url", org.url, "--org", org.org_id, "--user", ada.email, *credentials)
    second: pexpect.spawn[str] | None = None
    try:
        first.expect(f"Signed in to {org.org_id} as Ada")
        with org.web_chat() as carla:
            carla.start_chat("Carla")
            first.expect(shown("Offer: chat from Carla"))
            first.send("/accept\r")
            first.expect("Connected with Carla")
            second = terminal("agent", "--url", org.url, "--org", org.org_id, "--user", bob.email, *credentials)
            second.expect(f"Signed in to {org.org_id} as Bob")
            first.send("/users\r")
            first.expect(shown(f"Bob ({bob.user_id}): ready, 0/1"))
            first.send(f"/transfer {bob.email}\r")
            # The Disconnected event may be shown before the transfer's own answer is.
            first_note = first.expect_exact(["Transferring to Bob.", "The chat was transferred."])
            first.expect_exact(["Transferring to Bob.", "The chat was transferred."][1 - first_note])
            second.expect(shown("Offer: chat from Carla"))
            second.send("/accept\r")
            second.expect("Connected with Carla")
        for quitting in (first, second):
            quitting.send("/quit\r")
            quitting.expect(pexpect.EOF)
    finally:
        for child in (first, second):
            if child is not None:
                child.close(force=True)


def agent_terminal(org: Org, email: str) -> pexpect.spawn[str]:
    credentials = ("--client-id", org.client_id, "--client-secret", org.client_secret, "--api-key", org.api_key)
    return terminal("agent", "--url", org.url, "--org", org.org_id, "--user", email, *credentials)


def test_an_agent_who_goes_ready_again_and_quits_leaves_without_a_traceback(org: Org) -> None:
    ada = org.user("Ada", "Lovelace")
    agent = agent_terminal(org, ada.email)
    try:
        agent.expect("waiting for offers")
        agent.send("/ready\r")
        agent.expect("Ready: waiting for offers")
        agent.send("/quit\r")
        agent.expect(pexpect.EOF)
        said = str(agent.before)
    finally:
        agent.close(force=True)
    assert "Task exception" not in said and "Traceback" not in said, said
    assert agent.exitstatus == 0


def test_a_customer_whose_input_is_a_file_chats_until_the_file_ends(org: Org, tmp_path: Path) -> None:
    script = tmp_path / "lines.txt"
    script.write_text("/help\n/end\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARLEY_")}
    with script.open() as stdin:
        done = subprocess.run(
            [PARLEY, "chat", "--url", org.url, "--org", org.org_id, "--name", "Erin"],
            stdin=stdin,
            capture_output=True,
            text=True,
            env=env,
            timeout=20,
        )
    assert "Waiting for an agent" in done.stdout and "You left the chat" in done.stdout, done.stdout + done.stderr
    assert done.returncode == 0 and "Errno" not in done.stdout + done.stderr


def test_an_agent_takes_the_user_from_the_environment_and_the_secrets_from_files(org: Org, tmp_path: Path) -> None:
    ada = org.user("Ada", "Lovelace")
    (tmp_path / "secret").write_text(org.client_secret + "\n")
    (tmp_path / "key").write_text(org.api_key)
    env = {"PARLEY_URL": org.url, "PARLEY_ORG": org.org_id, "PARLEY_USER": ada.email}
    env |= {"PARLEY_CLIENT_ID": org.client_id, "PARLEY_CLIENT_SECRET_FILE": str(tmp_path / "secret")}
    agent = terminal("agent", "--api-key-file", str(tmp_path / "key"), env=env)
    try:
        agent.expect(f"Signed in to {org.org_id} as Ada")
        agent.send("/quit\r")
        agent.expect(pexpect.EOF)
    finally:
        agent.close(force=True)
    assert agent.exitstatus == 0

"""Many live chats in one organization: N agents ready for one chat each, N customers chatting.

Opened over the HTTP API, many requests at a time: the agents (user, streaming session, ready),
then the customers (web token, session, chat), then each agent accepts the chat it was offered.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

import httpx

from harness import Chat, ParleyServer, messages_per_interaction, send_text_body
from receivers import TRANSPORTS, Target

T = TypeVar("T")
AT_ONCE = 16  # requests in flight while opening chats
AGENT_INACTIVITY = 600  # seconds: agents' sessions outlive a long set-up
CUSTOMER_POLL_EVERY = 15.0  # seconds
# Idle connections are let go well before the server's keep-alive time (5 s), which a slowed
# server (under callgrind) would otherwise reach while a request is on its way.
KEEP_ALIVE = 1.0


def allow_many(server: ParleyServer) -> None:
    """Before ``server.start()``: no web-token limit, and offers that wait out a long set-up."""
    server.env["PARLEY_WEBTOKEN_RATE_PER_SECOND"] = "0"
    server.env["PARLEY_OFFER_TIMEOUT_SECONDS"] = "600"


def open_chats(server: ParleyServer, count: int, org_id: str = "bench") -> list[Chat]:
    """``count`` accepted chats; the server was started after ``allow_many``."""
    return asyncio.run(_open_chats(server, count, org_id))


async def _each(items: list[T], work: Callable[[T], Awaitable[Any]]) -> list[Any]:
    gate = asyncio.Semaphore(AT_ONCE)

    async def one(item: T) -> Any:
        async with gate:
            return await work(item)

    return list(await asyncio.gather(*(one(item) for item in items)))


def _ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}")
    return response.json() if response.content else {}


async def _open_chats(server: ParleyServer, count: int, org_id: str) -> list[Chat]:
    creds = json.loads(server.cli("admin", "bootstrap", org_id, "--json"))
    base = f"/via/v2/organizations/{org_id}"
    limits = httpx.Limits(max_connections=AT_ONCE, keepalive_expiry=KEEP_ALIVE)
    async with httpx.AsyncClient(base_url=server.base_url, timeout=60, limits=limits) as http:
        token = _ok(
            await http.post(
                f"/tokenservice/oauth2/access_token?realm={org_id}",
                data={"grant_type": "client_credentials"},
                auth=(creds["clientId"], creds["clientSecret"]),
            )
        )["access_token"]
        auth = {"Authorization": f"Bearer {token}", "x-api-key": creds["apiKey"]}

        async def agent(index: int) -> tuple[str, str]:
            user = {"firstName": "Agent", "lastName": str(index), "email": f"agent{index}@bench.example"}
            user_id = _ok(await http.post(base + "/provisioning/users", json=user, headers=auth), 201)["userId"]
            opened = {"userId": user_id, "inactivityDelay": AGENT_INACTIVITY}
            session = _ok(await http.post(base + "/streaming/session", json=opened, headers=auth))["sessionId"]
            ready = {**auth, "via-client-sessionid": session}
            path = f"{base}/engagementCenter/users/{user_id}/ready"
            _ok(await http.post(path, json={"maxConcurrent": 1}, headers=ready), 202)
            return user_id, session

        customers_opened: list[dict[str, str]] = []

        async def customer(index: int) -> tuple[str, str, str]:
            web_token = _ok(await http.post(base + "/webToken", json={}))["tokenId"]
            headers = {"Authorization": f"Bearer {web_token}"}
            session = _ok(await http.post(base + "/publicChat/streaming/session", json={}, headers=headers))
            headers["via-client-sessionid"] = session["sessionId"]
            customers_opened.append(headers)
            chat = {"contactName": f"Customer {index}"}
            started = _ok(await http.post(base + "/publicChat/messaging/chat", json=chat, headers=headers))
            return started["interactionId"], web_token, session["sessionId"]

        async def accept(agent: tuple[str, str]) -> str:
            user_id, session = agent
            headers = {**auth, "via-client-sessionid": session}
            for _ in range(60):
                polled = _ok(await http.get(base + "/streaming/events?maxEvents=100&timeout=1", headers=headers))
                offers = [e["payload"] for e in polled["events"] if e["eventType"] == "engagementCenter.Offered"]
                if offers:
                    interaction_id: str = offers[0]["interactionId"]
                    body = {"ehubSessionId": offers[0]["ehubSessionId"]}
                    path = f"{base}/engagementCenter/interactions/{interaction_id}/accept"
                    _ok(await http.post(path, json=body, headers=headers), 202)
                    return interaction_id
            raise SystemExit(f"agent {user_id} was offered no chat")

        agents = await _each(list(range(count)), agent)
        keeper = asyncio.create_task(_keep_alive(http, base, customers_opened))
        try:
            customers = {c[0]: c for c in await _each(list(range(count)), customer)}
            accepted = await _each(agents, accept)
        finally:
            keeper.cancel()
    template = Chat(
        server.base_url, org_id, creds["clientId"], creds["clientSecret"], token, creds["apiKey"], *[""] * 5
    )
    chats = []
    for (user_id, session), interaction_id in zip(agents, accepted, strict=True):
        _, web_token, customer_session = customers[interaction_id]
        chat = replace(template, user_id=user_id, agent_session=session, interaction_id=interaction_id)
        chats.append(replace(chat, customer_token=web_token, customer_session=customer_session))
    return chats


async def _keep_alive(http: httpx.AsyncClient, base: str, customers: list[dict[str, str]]) -> None:
    """Poll each customer's session now and then: one expires after 60 s without a poll, sooner
    than a slow set-up ends."""

    async def poll(headers: dict[str, str]) -> None:
        _ok(await http.get(base + "/publicChat/streaming/events?timeout=0", headers=headers))

    while True:
        await asyncio.sleep(CUSTOMER_POLL_EVERY)
        await _each(list(customers), poll)


def stored_per_chat(server: ParleyServer, chats: list[Chat]) -> list[int]:
    """Committed messages of each chat."""
    stored = messages_per_interaction(server)
    return [stored.get(chat.interaction_id, 0) for chat in chats]


def _lua(text: str) -> str:
    return "[==[" + text + "]==]"


def spread_script(chats: list[Chat]) -> str:
    """A wrk script that sends each request to the next chat in turn, as its agent."""
    first = chats[0]
    rows = [
        "{" + ", ".join(_lua(v) for v in (c.send_text_path, c.agent_session, send_text_body(c.interaction_id))) + "}"
        for c in chats
    ]
    table = ",\n".join(rows)
    return f"""
local chats = {{
{table}
}}
local requests = {{}}
local turn = 0
function init(args)
  for k, chat in ipairs(chats) do
    requests[k] = wrk.format("POST", chat[1], {{
      ["Content-Type"] = "application/json",
      ["Authorization"] = {_lua("Bearer " + first.access_token)},
      ["x-api-key"] = {_lua(first.api_key)},
      ["via-client-sessionid"] = chat[2],
    }}, chat[3])
  end
end
function request()
  turn = turn % #requests + 1
  return requests[turn]
end
"""


def open_idle_sessions(server: ParleyServer, chat: Chat, count: int) -> list[Target]:
    """``count`` sessions that nothing is sent to, transports in turn: half of them a second
    agent's (600 s inactivity delay), half customers' with a web token each and no chat yet."""
    return asyncio.run(_open_idle_sessions(server, chat, count))


async def _open_idle_sessions(server: ParleyServer, chat: Chat, count: int) -> list[Target]:
    base = chat.org_path
    auth = {"Authorization": f"Bearer {chat.access_token}", "x-api-key": chat.api_key}
    async with httpx.AsyncClient(
        base_url=server.base_url, timeout=60, limits=httpx.Limits(max_connections=AT_ONCE, keepalive_expiry=KEEP_ALIVE)
    ) as http:
        user = {"firstName": "Idle", "lastName": "Agent", "email": "idle@bench.example"}
        user_id = _ok(await http.post(base + "/provisioning/users", json=user, headers=auth), 201)["userId"]

        async def agent(index: int) -> Target:
            opened = {"userId": user_id, "inactivityDelay": AGENT_INACTIVITY}
            session = _ok(await http.post(base + "/streaming/session", json=opened, headers=auth))["sessionId"]
            transport = TRANSPORTS[index % len(TRANSPORTS)]
            return Target(index, "agent", transport, base + "/streaming", {**auth, "via-client-sessionid": session})

        customers_opened: list[dict[str, str]] = []

        async def customer(index: int) -> Target:
            web_token = _ok(await http.post(base + "/webToken", json={}))["tokenId"]
            headers = {"Authorization": f"Bearer {web_token}"}
            session = _ok(await http.post(base + "/publicChat/streaming/session", json={}, headers=headers))
            headers["via-client-sessionid"] = session["sessionId"]
            customers_opened.append(headers)
            transport = TRANSPORTS[index % len(TRANSPORTS)]
            return Target(index, "customer", transport, base + "/publicChat/streaming", headers)

        agents = await _each(list(range(count // 2)), agent)
        keeper = asyncio.create_task(_keep_alive(http, base, customers_opened))
        try:
            return agents + await _each(list(range(count - count // 2)), customer)
        finally:
            keeper.cancel()

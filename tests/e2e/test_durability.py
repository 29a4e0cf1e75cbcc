"""A 202 means stored: kill the server without warning and find every accepted message again."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import Org, open_chat, start_server


async def burst(org: Org, user_id: str, session_id: str, interaction: str, count: int) -> list[str]:
    url = f"{org.server.base_url}{org.base}/messaging/users/{user_id}/sendText"
    headers = org.headers(session_id)
    async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=32)) as client:

        async def one(i: int) -> str | None:
            body = {"interactionId": interaction, "entityName": "Ada", "entityType": "Agent", "text": f"burst {i}"}
            r = await client.post(url, json=body, headers=headers)
            return r.headers["x-message-id"] if r.status_code == 202 else None

        ids = await asyncio.gather(*(one(i) for i in range(count)))
    return [i for i in ids if i is not None]


def test_every_acknowledged_message_survives_sigkill(tmp_path: Path, database_url: str) -> None:
    env = {"PARLEY_DATABASE_URL": database_url, "PARLEY_RATE_LIMIT_PER_SECOND": "0"}
    data = tmp_path / "data"
    server = start_server(data, env)
    creds = server.bootstrap("durable")
    org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    ada = org.agent(org.create_user("Ada", "Durable"))
    ada.ready()
    _, interaction = open_chat(org, ada)
    accepted = asyncio.run(burst(org, ada.user_id, ada.session_id, interaction, 300))
    server.kill()  # SIGKILL right after the last 202
    org.http.close()
    assert len(accepted) == 300

    server = start_server(data, env)
    try:
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        reader = org.agent(ada.user_id)
        r = org.http.get(
            f"{org.base}/engagementCenter/interactions/{interaction}/transcript", headers=org.headers(reader.session_id)
        )
        assert r.status_code == 200, r.text
        stored = [m["messageId"] for m in r.json()["messages"]]
        assert set(accepted) <= set(stored)
        assert len(stored) == len(set(stored))
        # the interaction is still open after the restart: the agent can go on
        assert reader.send_text(interaction, "after restart").status_code == 202
        org.http.close()
    finally:
        server.stop()


@pytest.mark.redis
def test_redis_sessions_survive_a_restart_and_serve_any_instance(tmp_path: Path, pg_database: str) -> None:

    env = {"PARLEY_DATABASE_URL": pg_database, "PARLEY_EVENTS_URL": "redis://127.0.0.1:6379/0"}
    one = start_server(tmp_path / "one", env)
    two = start_server(tmp_path / "two", env)
    try:
        creds = one.bootstrap("shared")
        org_one = Org(one, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        org_two = Org(two, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        ada = org_one.agent(org_one.create_user("Ada", "Shared"))
        ada.ready()
        customer = org_one.customer()
        interaction = customer.start_chat()
        offer = ada.wait_for("engagementCenter.Offered")["payload"]
        # the same streaming session, polled through the other instance
        r = org_two.http.get(
            org_two.base + "/streaming/events", params={"timeout": 0}, headers=org_two.headers(ada.session_id)
        )
        assert r.status_code == 200, r.text
        ada.post(f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["ehubSessionId"]})
        ada.send_text(interaction, "hello")
        one.kill()
        r = org_two.http.get(
            org_two.base + "/publicChat/streaming/events",
            params={"timeout": 2, "maxEvents": 100},
            headers=customer.headers(),
        )
        assert r.status_code == 200, r.text
        assert "messaging.Text" in [e["eventType"] for e in r.json()["events"]]
        org_one.http.close()
        org_two.http.close()
    finally:
        try:
            one.stop()
        finally:
            two.stop()

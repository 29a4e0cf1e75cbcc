"""Webhooks end to end: real ``parley serve`` processes deliver to a real receiver on loopback
(private targets allowed for it), through a SIGKILL and from two instances on one database."""

from __future__ import annotations

import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook as Verifier

from tests.e2e.receiver import Received, Receiver, running_receiver
from tests.e2e.server import Org, ServerProcess, open_chat, start_server

ALLOW_PRIVATE = {"PARLEY_WEBHOOK_ALLOW_PRIVATE": "1", "PARLEY_RATE_LIMIT_PER_SECOND": "0"}


def subscribe(org: Org, receiver: Receiver) -> dict[str, Any]:
    r = org.http.post(org.base + "/webhooks", json={"url": receiver.url, "eventTypes": ["*"]}, headers=org.headers())
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


def deliveries(org: Org, webhook_id: str, **query: str) -> list[dict[str, Any]]:
    r = org.http.get(f"{org.base}/webhooks/{webhook_id}/deliveries", params=query, headers=org.headers())
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()["deliveries"]
    return found


def org_of(server: ServerProcess, creds: dict[str, str]) -> Org:
    return Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout} s")
        time.sleep(0.1)


def test_a_sent_text_reaches_the_receiver_signed_and_is_listed_as_delivered(tmp_path: Path) -> None:
    with running_receiver() as receiver:
        server = start_server(tmp_path / "data", ALLOW_PRIVATE)
        try:
            org = org_of(server, server.bootstrap("acme"))
            webhook = subscribe(org, receiver)
            ada = org.agent(org.create_user("Ada", "Hook"))
            ada.ready()
            _, interaction = open_chat(org, ada)

            r = ada.send_text(interaction, "hello hooks")
            assert r.status_code == 202
            (got,) = receiver.wait_for(1)
            envelope = Verifier(webhook["secret"]).verify(got.body, got.headers)
            assert envelope["payload"]["messageId"] == r.headers["x-message-id"]
            assert envelope["webhookId"] == webhook["webhookId"]
            wait_until(lambda: deliveries(org, webhook["webhookId"], status="delivered"), 5, "the delivered status")
            (listed,) = deliveries(org, webhook["webhookId"])
            assert listed["eventId"] == got.headers["webhook-id"]
            assert (listed["status"], listed["attempts"], listed["lastStatusCode"]) == ("delivered", 1, 204)
            metrics = org.http.get("/metrics").text
            assert 'parley_webhook_deliveries_total{outcome="delivered"} 1.0' in metrics
            assert "parley_webhook_delivery_lag_seconds_count 1.0" in metrics
            org.http.close()
        finally:
            server.stop()


def test_a_pending_delivery_survives_sigkill_of_the_server(tmp_path: Path) -> None:
    answered = threading.Event()

    def plan(n: int, _r: Received) -> tuple[int, float]:
        return (500, 0.0) if not answered.is_set() else (204, 0.0)

    with running_receiver(plan) as receiver:
        data = tmp_path / "data"
        server = start_server(data, ALLOW_PRIVATE)
        creds = server.bootstrap("acme")
        org = org_of(server, creds)
        webhook = subscribe(org, receiver)
        ada = org.agent(org.create_user("Ada", "Hook"))
        ada.ready()
        _, interaction = open_chat(org, ada)
        sent = [ada.send_text(interaction, f"text {i}").headers["x-message-id"] for i in range(5)]
        receiver.wait_for(1)
        wait_until(
            lambda: deliveries(org, webhook["webhookId"])[-1].get("lastStatusCode") == 500, 5, "the first failure"
        )
        server.kill()
        org.http.close()
        answered.set()

        server = start_server(data, ALLOW_PRIVATE)
        try:
            got = receiver.wait_for(6, timeout=15)
            ids = [r.envelope["payload"]["messageId"] for r in got]
            assert ids == [sent[0], *sent]  # the failed first one again, then the rest in order
            assert got[0].headers["webhook-id"] == got[1].headers["webhook-id"]
        finally:
            server.stop()


@pytest.mark.postgres
def test_two_instances_on_one_database_deliver_each_event_once(tmp_path: Path, pg_database: str) -> None:
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def plan(_n: int, r: Received) -> tuple[int, float]:
        with lock:
            seen[r.headers["webhook-id"]] += 1
            return (503, 0.0) if seen[r.headers["webhook-id"]] == 1 else (204, 0.0)

    env = {**ALLOW_PRIVATE, "PARLEY_DATABASE_URL": pg_database}
    with running_receiver(plan) as receiver:
        one = start_server(tmp_path / "one", env)
        two = start_server(tmp_path / "two", env)
        try:
            org = org_of(one, one.bootstrap("acme"))
            webhook = subscribe(org, receiver)
            ada = org.agent(org.create_user("Ada", "Hook"))
            ada.ready(max_concurrent=4)
            chats = [open_chat(org, ada, f"Carla {i}")[1] for i in range(4)]
            time.sleep(2.5)  # the second instance has read the subscription
            for round_ in range(2):
                for interaction in chats:
                    assert ada.send_text(interaction, f"round {round_}").status_code == 202

            wait_until(lambda: len(deliveries(org, webhook["webhookId"], status="delivered")) == 8, 30, "8 deliveries")
            assert len(seen) == 8
            assert set(seen.values()) == {2}, seen  # one failure and one success each, never a third
            assert len(receiver.received) == 16
            org.http.close()
        finally:
            two.stop()
            one.stop()

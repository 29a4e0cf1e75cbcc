"""Dependency faults under load, driven for real: the server's own PostgreSQL restarted, its Redis
stopped (SIGSTOP) for 5 s, while agents send text on several chats and both sides long-poll.

What must hold (issue: dependency faults answer 503 and lose no event): no answer is a 500; every
503 carries Retry-After; no session skips a sequence number (or it is told, streaming.Reset);
every 202 reaches the agent's and the customer's session exactly once; and the server recovers
by itself within 5 s of the fault's end. The figures are printed for the record.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.e2e.own_postgres import OwnPostgres, own_postgres
from tests.e2e.own_redis import OwnRedis, own_redis
from tests.e2e.server import Customer, Org, ServerProcess, open_chat, running_server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CHATS = 4
RECOVERY_LIMIT = 5.0


@dataclass
class Tally:
    """Every answer seen, when, and what each session received."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    missing_retry_after: list[str] = field(default_factory=list)
    last_503: float = 0.0
    accepted: dict[str, str] = field(default_factory=dict)  # message id -> text
    received: dict[str, list[str]] = field(default_factory=dict)  # session -> message ids, in order
    gaps: list[str] = field(default_factory=list)
    resets: int = 0

    def answer(self, what: str, r: httpx.Response) -> None:
        with self.lock:
            self.statuses[(what, r.status_code)] += 1
            if r.status_code == 503:
                self.last_503 = time.monotonic()
                if not r.headers.get("retry-after", "").isdigit():
                    self.missing_retry_after.append(f"{what}: {r.headers}")


def send_until_accepted(org: Org, agent_user: str, session_id: str, interaction: str, text: str, tally: Tally) -> None:
    """As a careful client does: on 503 the same request again, with the same Idempotency-Key."""
    body = {"interactionId": interaction, "entityName": "Ada", "entityType": "Agent", "text": text}
    headers = org.headers(session_id, **{"Idempotency-Key": uuid.uuid4().hex})
    path = f"{org.base}/messaging/users/{agent_user}/sendText"
    while True:
        try:
            r = org.http.post(path, json=body, headers=headers, timeout=10)
        except httpx.TransportError:
            continue
        tally.answer("sendText", r)
        if r.status_code == 202:
            with tally.lock:
                tally.accepted[r.headers["x-message-id"]] = text
            return
        assert r.status_code == 503, r.text
        time.sleep(0.1)


def poll_forever(
    http: httpx.Client, url: str, headers: dict[str, str], name: str, tally: Tally, stop: threading.Event
) -> None:
    last: int | None = None  # what the session handed out before is not watched
    got = tally.received.setdefault(name, [])
    while not stop.is_set():
        try:
            r = http.get(url, params={"maxEvents": 100, "timeout": 1}, headers=headers, timeout=10)
        except httpx.TransportError:
            continue
        tally.answer("poll", r)
        if r.status_code == 503:
            time.sleep(0.1)
            continue
        assert r.status_code == 200, r.text
        for event in r.json()["events"]:
            if event["eventType"] == "streaming.Reset":
                tally.resets += 1
                last = event["sequenceNumber"]
                continue
            if last is not None and event["sequenceNumber"] != last + 1:
                tally.gaps.append(f"{name}: {last} then {event['sequenceNumber']}")
            last = event["sequenceNumber"]
            if event["eventType"] == "messaging.Text":
                got.append(event["payload"]["messageId"])


def token_requests(org: Org, tally: Tally, stop: threading.Event) -> None:
    while not stop.is_set():
        r = org.http.post(
            f"/tokenservice/oauth2/access_token?realm={org.org_id}",
            data={"grant_type": "client_credentials"},
            auth=(org.client_id, org.client_secret),
        )
        tally.answer("token", r)
        assert r.status_code in (200, 503), r.text
        time.sleep(0.05)


@dataclass
class Deployment:
    server: ServerProcess
    postgres: OwnPostgres
    redis: OwnRedis


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("faults")
    with own_postgres() as postgres, own_redis(root / "redis", persistent=True) as redis:
        env = {"PARLEY_DATABASE_URL": postgres.url, "PARLEY_EVENTS_URL": redis.url, "PARLEY_RATE_LIMIT_PER_SECOND": "0"}
        with running_server(root / "data", env) as server:
            yield Deployment(server, postgres, redis)


def postgres_restart(d: Deployment) -> AbstractContextManager[None]:
    class Restart:
        def __enter__(self) -> None:
            d.postgres.restart()

        def __exit__(self, *exc: object) -> None:
            pass

    return Restart()


def redis_stall(d: Deployment) -> AbstractContextManager[None]:
    class Stall:
        def __enter__(self) -> None:
            self.hung = d.redis.hung()
            self.hung.__enter__()
            time.sleep(5)

        def __exit__(self, *exc: Any) -> None:
            self.hung.__exit__(*exc)

    return Stall()


FAULTS: dict[str, Callable[[Deployment], AbstractContextManager[None]]] = {
    "postgres restart": postgres_restart,
    "redis stall 5 s": redis_stall,
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_under_load_a_fault_answers_503_loses_no_event_and_recovers(
    deployment: Deployment, fault: str, capsys: pytest.CaptureFixture[str]
) -> None:
    creds = deployment.server.bootstrap(f"org{uuid.uuid4().hex[:8]}")
    org = Org(deployment.server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    agent = org.agent(org.create_user("Ada", "Faults"))
    assert agent.ready(max_concurrent=CHATS).status_code == 202
    chats: list[tuple[Customer, str]] = [open_chat(org, agent, f"Carla {n}") for n in range(CHATS)]
    agent.drain()
    tally, stop, sending = Tally(), threading.Event(), threading.Event()
    sending.set()

    def sender(interaction: str) -> None:
        sender_org = Org(org.server, org.org_id, org.client_id, org.client_secret, org.api_key)
        n = 0
        try:
            while sending.is_set():
                send_until_accepted(sender_org, agent.user_id, agent.session_id, interaction, f"text {n}", tally)
                n += 1
        finally:
            sender_org.http.close()

    def agent_poller() -> None:
        with httpx.Client(base_url=org.server.base_url) as http:
            poll_forever(http, org.base + "/streaming/events", org.headers(agent.session_id), "agent", tally, stop)

    def customer_poller(customer: Customer) -> None:
        with httpx.Client(base_url=org.server.base_url) as http:
            url = org.base + "/publicChat/streaming/events"
            poll_forever(http, url, customer.headers(), customer.session_id, tally, stop)

    pollers = [threading.Thread(target=agent_poller)]
    pollers += [threading.Thread(target=customer_poller, args=(c,)) for c, _ in chats]
    senders = [threading.Thread(target=sender, args=(i,)) for _, i in chats]
    tokens = threading.Thread(target=token_requests, args=(org, tally, stop))
    for t in [*pollers, *senders, tokens]:
        t.start()
    try:
        time.sleep(1.5)
        with FAULTS[fault](deployment):
            pass
        fault_ended = time.monotonic()
        time.sleep(RECOVERY_LIMIT + 1)
    finally:
        sending.clear()
        for t in [*senders, tokens]:
            t.join(30)
        time.sleep(2.5)  # the pollers take what is left
        stop.set()
        for t in pollers:
            t.join(30)
        org.http.close()

    recovery = max(0.0, tally.last_503 - fault_ended)
    counts = {f"{what} {status}": n for (what, status), n in sorted(tally.statuses.items())}
    with capsys.disabled():
        print(
            f"\n[{fault}] answers: {counts}; recovered {recovery:.2f} s after the fault ended; "
            f"{len(tally.accepted)} messages accepted, resets {tally.resets}"
        )
    assert not [k for k in tally.statuses if k[1] == 500], counts
    assert not tally.missing_retry_after
    assert not tally.gaps, tally.gaps
    assert recovery < RECOVERY_LIMIT
    accepted = set(tally.accepted)
    for session, got in tally.received.items():
        assert len(got) == len(set(got)), f"{session} received a message twice"
        assert set(got) <= accepted, f"{session} received a message that was never answered 202"
    assert set(tally.received["agent"]) == accepted, "the agent's session missed accepted messages"
    to_customers = sum(len(got) for session, got in tally.received.items() if session != "agent")
    assert to_customers == len(accepted), "the customers did not receive every accepted message once"


def test_an_event_stream_cut_by_a_redis_stall_tells_the_client_to_come_back_soon(deployment: Deployment) -> None:
    creds = deployment.server.bootstrap(f"org{uuid.uuid4().hex[:8]}")
    org = Org(deployment.server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    agent = org.agent(org.create_user("Sam", "Stream"))
    url = org.base + "/streaming/events/stream"
    try:
        with org.http.stream("GET", url, headers=org.headers(agent.session_id), timeout=30) as r:
            assert r.status_code == 200
            lines = r.iter_lines()
            assert next(lines) == "retry: 2000"
            with deployment.redis.hung():
                rest = list(lines)  # the stream ends by itself within the bound on a Redis call
        assert "retry: 1000" in rest, rest
    finally:
        org.http.close()


def test_a_websocket_cut_by_a_redis_stall_closes_with_try_again_later(deployment: Deployment) -> None:
    creds = deployment.server.bootstrap(f"org{uuid.uuid4().hex[:8]}")
    org = Org(deployment.server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    agent = org.agent(org.create_user("Wes", "Socket"))
    url = org.server.base_url.replace("http://", "ws://") + org.base + "/streaming/ws"
    try:
        with (
            connect(url, additional_headers=org.headers(agent.session_id)) as ws,
            deployment.redis.hung(),
            pytest.raises(ConnectionClosed) as closed,
        ):
            ws.recv(timeout=30)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013, closed.value
    finally:
        org.http.close()

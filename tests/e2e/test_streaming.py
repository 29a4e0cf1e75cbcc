"""Streaming sessions over real HTTP: long poll, acknowledgement, SSE, WebSocket (contract 4)."""

from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from tests.e2e.server import Agent, Customer, Org, open_chat


@pytest.fixture(scope="module")
def ada(module_org: Org) -> Agent:
    agent = module_org.agent(module_org.create_user("Ada", "Stream"))
    assert agent.ready(max_concurrent=50).status_code == 202
    return agent


@pytest.fixture(scope="module")
def chat(module_org: Org, ada: Agent) -> tuple[Customer, str]:
    return open_chat(module_org, ada)


def test_session_creation_returns_the_contract_fields(module_org: Org, ada: Agent) -> None:
    r = module_org.http.post(
        module_org.base + "/streaming/session",
        json={"userId": ada.user_id, "inactivityDelay": 120, "requireAcknowledgement": True},
        headers=module_org.headers(),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"sessionId", "creationTime", "inactivityDelay", "requireAcknowledgement", "userId"}
    assert body["inactivityDelay"] == 120 and body["requireAcknowledgement"] is True
    assert body["creationTime"].endswith("Z")


@pytest.mark.parametrize("delay", [9, 601, "60"])
def test_inactivity_delay_outside_10_to_600_is_refused(module_org: Org, ada: Agent, delay: object) -> None:
    r = module_org.http.post(
        module_org.base + "/streaming/session",
        json={"userId": ada.user_id, "inactivityDelay": delay},
        headers=module_org.headers(),
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["scope"] == "inactivityDelay"


def test_session_for_unknown_user_is_404(module_org: Org) -> None:
    r = module_org.http.post(
        module_org.base + "/streaming/session", json={"userId": "usr_x"}, headers=module_org.headers()
    )
    assert r.status_code == 404


def test_long_poll_wakes_the_moment_an_event_arrives(module_org: Org, ada: Agent, chat: tuple[Customer, str]) -> None:
    customer, interaction = chat
    customer.drain()
    result: dict[str, float] = {}

    def poll() -> None:
        started = time.monotonic()
        events = customer.fetch(timeout=20)
        result["elapsed"] = time.monotonic() - started
        result["count"] = len(events)

    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.5)
    sent = time.monotonic()
    assert ada.send_text(interaction, "wake up").status_code == 202
    thread.join(10)
    assert result["count"] >= 1
    assert result["elapsed"] < 5
    assert time.monotonic() - sent < 2


def test_a_poll_whose_client_hung_up_takes_no_event(module_org: Org, ada: Agent, chat: tuple[Customer, str]) -> None:
    customer, interaction = chat
    customer.drain()
    url = httpx.URL(module_org.http.base_url.join(module_org.base + "/publicChat/streaming/events"))
    head = [f"GET {url.raw_path.decode()}?maxEvents=100&timeout=20 HTTP/1.1", f"Host: {url.host}:{url.port}"]
    head += [f"{name}: {value}" for name, value in customer.headers().items()]
    with socket.create_connection((url.host, url.port)) as hung_up:
        hung_up.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        time.sleep(0.3)  # the poll is waiting on the server
    time.sleep(0.3)  # and the server has seen the hang-up
    assert ada.send_text(interaction, "still here?").status_code == 202
    texts = [e["payload"]["text"] for e in customer.fetch(timeout=5) if e["eventType"] == "messaging.Text"]
    assert texts == ["still here?"]


def test_poll_times_out_with_an_empty_list(module_org: Org, ada: Agent) -> None:
    quiet = module_org.agent(ada.user_id)
    started = time.monotonic()
    assert quiet.fetch(timeout=1) == []
    assert 0.9 <= time.monotonic() - started < 3


@pytest.mark.parametrize("query", [{"maxEvents": 0}, {"maxEvents": 101}, {"timeout": 56}, {"timeout": "soon"}])
def test_poll_parameters_out_of_range_are_400(module_org: Org, ada: Agent, query: dict[str, int | str]) -> None:
    r = module_org.http.get(
        module_org.base + "/streaming/events", params=query, headers=module_org.headers(ada.session_id)
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["scope"] in query


def test_acknowledged_session_redelivers_until_acknowledged(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    _, interaction = chat
    acking = module_org.agent(ada.user_id, requireAcknowledgement=True)
    ada.send_text(interaction, "one")
    ada.send_text(interaction, "two")
    first = [e for e in acking.fetch(timeout=2) if e["eventType"] == "messaging.Text"]
    again = [e for e in acking.fetch(timeout=2) if e["eventType"] == "messaging.Text"]
    assert [e["payload"]["text"] for e in first] == ["one", "two"]
    assert [e["sequenceNumber"] for e in again] == [e["sequenceNumber"] for e in first]
    r = module_org.http.post(
        module_org.base + "/streaming/acknowledge",
        json={"sequenceNumber": first[0]["sequenceNumber"]},
        headers=module_org.headers(acking.session_id),
    )
    assert r.status_code == 204, r.text
    rest = acking.fetch(timeout=1)
    assert [e["payload"]["text"] for e in rest] == ["two"]


def test_acknowledge_on_a_session_without_acknowledgement_is_400(module_org: Org, ada: Agent) -> None:
    r = module_org.http.post(
        module_org.base + "/streaming/acknowledge",
        json={"sequenceNumber": 1},
        headers=module_org.headers(ada.session_id),
    )
    assert r.status_code == 400


def test_deleted_session_is_invalid_afterwards(module_org: Org, ada: Agent) -> None:
    extra = module_org.agent(ada.user_id)
    r = module_org.http.delete(module_org.base + "/streaming/session", headers=module_org.headers(extra.session_id))
    assert r.status_code == 204
    r = module_org.http.get(module_org.base + "/streaming/events", headers=module_org.headers(extra.session_id))
    assert r.status_code == 400
    assert r.json()["errors"][0]["reason"] == "invalidSession"


def read_sse(response: httpx.Response, count: int) -> list[dict[str, object]]:
    events: list[dict[str, object]] = []
    current: dict[str, object] = {}
    for line in response.iter_lines():
        if line.startswith(":") or line.startswith("retry:"):
            continue
        if not line:
            if current:
                events.append(current)
                current = {}
                if len(events) >= count:
                    return events
            continue
        field, _, value = line.partition(": ")
        current[field] = json.loads(value) if field == "data" else value
    return events


def test_sse_streams_events_and_resumes_after_last_event_id(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    _, interaction = chat
    watcher = module_org.agent(ada.user_id)
    url = module_org.base + "/streaming/events/stream"
    for text in ("a", "b", "c"):
        ada.send_text(interaction, text)
    with module_org.http.stream("GET", url, headers=module_org.headers(watcher.session_id)) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        got = read_sse(r, 3)
    assert [e["event"] for e in got] == ["messaging.Text"] * 3
    assert [e["id"] for e in got] == ["1", "2", "3"]
    data = got[0]["data"]
    assert isinstance(data, dict) and data["payload"]["text"] == "a"
    headers = {**module_org.headers(watcher.session_id), "Last-Event-ID": "1"}
    with module_org.http.stream("GET", url, headers=headers) as r:
        resumed = read_sse(r, 2)
    assert [e["id"] for e in resumed] == ["2", "3"]


def ws_url(org: Org, path: str = "/streaming/ws") -> str:
    return org.server.base_url.replace("http://", "ws://") + org.base + path


def test_websocket_with_headers_streams_events(module_org: Org, ada: Agent, chat: tuple[Customer, str]) -> None:
    _, interaction = chat
    watcher = module_org.agent(ada.user_id)
    with connect(ws_url(module_org), additional_headers=module_org.headers(watcher.session_id)) as ws:
        ada.send_text(interaction, "over the socket")
        frame = json.loads(ws.recv(timeout=5))
    assert frame["eventType"] == "messaging.Text"
    assert frame["payload"]["text"] == "over the socket"
    assert frame["sequenceNumber"] == 1


def test_websocket_credentials_in_the_first_frame_for_browsers(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    _, interaction = chat
    watcher = module_org.agent(ada.user_id)
    h = module_org.headers(watcher.session_id)
    with connect(ws_url(module_org)) as ws:
        ws.send(
            json.dumps(
                {
                    "authorization": h["Authorization"],
                    "x-api-key": h["x-api-key"],
                    "via-client-sessionid": watcher.session_id,
                }
            )
        )
        ada.send_text(interaction, "first")
        ada.send_text(interaction, "second")
        frames = [json.loads(ws.recv(timeout=5)) for _ in range(2)]
        assert [f["payload"]["text"] for f in frames] == ["first", "second"]
        ws.send(json.dumps({"resumeAfter": 1}))
        replay = json.loads(ws.recv(timeout=5))
        assert replay["sequenceNumber"] == 2


def test_websocket_refusals(module_org: Org, ada: Agent) -> None:
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url(module_org), additional_headers={"Authorization": "Bearer wrong", "x-api-key": "k"})
    assert refused.value.response.status_code == 401
    with connect(ws_url(module_org)) as ws:
        ws.send(json.dumps({"authorization": "Bearer wrong"}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    with connect(ws_url(module_org)) as ws:
        ws.send("not json")
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


def test_contact_never_reads_another_contacts_session(module_org: Org) -> None:
    one, two = module_org.customer(), module_org.customer()
    r = module_org.http.get(
        module_org.base + "/publicChat/streaming/events",
        headers={"Authorization": f"Bearer {one.token}", "via-client-sessionid": two.session_id},
    )
    assert r.status_code == 400
    assert r.json()["errors"][0]["reason"] == "invalidSession"

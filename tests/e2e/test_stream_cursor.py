"""The long poll's resume cursor (``?after=N``) and which side's sessions each side accepts."""

from __future__ import annotations

from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.e2e.server import Agent, Customer, Org, open_chat


@pytest.fixture(scope="module")
def ada(module_org: Org) -> Agent:
    agent = module_org.agent(module_org.create_user("Ada", "Cursor"))
    assert agent.ready(max_concurrent=50).status_code == 202
    return agent


@pytest.fixture(scope="module")
def chat(module_org: Org, ada: Agent) -> tuple[Customer, str]:
    return open_chat(module_org, ada)


def poll(org: Org, path: str, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    r = org.http.get(org.base + path, params={"maxEvents": 100, "timeout": 0, **query}, headers=headers)
    assert r.status_code == 200, r.text
    events: list[dict[str, Any]] = r.json()["events"]
    return events


def texts(events: list[dict[str, Any]]) -> list[str]:
    return [e["payload"]["text"] for e in events if e["eventType"] == "messaging.Text"]


def test_an_agent_poll_after_n_replays_the_retained_events_after_n(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    _, interaction = chat
    watcher = module_org.agent(ada.user_id)
    for text in ("a", "b", "c"):
        assert ada.send_text(interaction, text).status_code == 202
    headers = module_org.headers(watcher.session_id)
    first = poll(module_org, "/streaming/events", headers)
    assert texts(first) == ["a", "b", "c"]
    numbers = [e["sequenceNumber"] for e in first]
    # The answer to the first poll was lost: the client asks again from the last number it has.
    again = poll(module_org, "/streaming/events", headers, after=numbers[0])
    assert [e["sequenceNumber"] for e in again] == numbers[1:]
    assert texts(again) == ["b", "c"]
    assert poll(module_org, "/streaming/events", headers, after=numbers[-1]) == []


def test_a_customer_poll_after_n_replays_the_retained_events_after_n(
    module_org: Org, ada: Agent, chat: tuple[Customer, str]
) -> None:
    customer, interaction = chat
    customer.drain()
    for text in ("x", "y"):
        assert ada.send_text(interaction, text).status_code == 202
    first = poll(module_org, "/publicChat/streaming/events", customer.headers())
    assert texts(first) == ["x", "y"]
    last = first[-1]["sequenceNumber"]
    again = poll(module_org, "/publicChat/streaming/events", customer.headers(), after=last - 1)
    assert [e["sequenceNumber"] for e in again] == [last]


def test_a_poll_after_n_waits_for_the_next_event(module_org: Org, ada: Agent, chat: tuple[Customer, str]) -> None:
    _, interaction = chat
    watcher = module_org.agent(ada.user_id)
    assert ada.send_text(interaction, "before").status_code == 202
    headers = module_org.headers(watcher.session_id)
    (seen,) = poll(module_org, "/streaming/events", headers)
    assert ada.send_text(interaction, "after").status_code == 202
    waited = poll(module_org, "/streaming/events", headers, after=seen["sequenceNumber"], timeout=5)
    assert texts(waited) == ["after"]


@pytest.mark.parametrize("after", ["-1", "one", "1.5"])
def test_a_cursor_that_is_no_sequence_number_is_400(module_org: Org, ada: Agent, after: str) -> None:
    r = module_org.http.get(
        module_org.base + "/streaming/events", params={"after": after}, headers=module_org.headers(ada.session_id)
    )
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["scope"] == "after"


@pytest.mark.parametrize("path", ["/streaming/events", "/streaming/events/stream"])
def test_the_agent_side_refuses_a_customers_session(module_org: Org, path: str) -> None:
    customer = module_org.customer()
    r = module_org.http.get(
        module_org.base + path, params={"timeout": 0}, headers=module_org.headers(customer.session_id)
    )
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["reason"] == "invalidSession"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("POST", "/streaming/acknowledge", {"sequenceNumber": 1}), ("DELETE", "/streaming/session", None)],
)
def test_the_agent_side_neither_acknowledges_nor_ends_a_customers_session(
    module_org: Org, method: str, path: str, body: dict[str, int] | None
) -> None:
    customer = module_org.customer()
    headers = module_org.headers(customer.session_id)
    r = module_org.http.request(method, module_org.base + path, json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["reason"] == "invalidSession"
    assert poll(module_org, "/publicChat/streaming/events", customer.headers()) == []


def test_the_agent_websocket_refuses_a_customers_session(module_org: Org) -> None:
    customer = module_org.customer()
    url = module_org.server.base_url.replace("http://", "ws://") + module_org.base + "/streaming/ws"
    with (
        pytest.raises(InvalidStatus) as refused,
        connect(url, additional_headers=module_org.headers(customer.session_id)),
    ):
        pass
    assert refused.value.response.status_code == 400


@pytest.mark.parametrize("path", ["/publicChat/streaming/events", "/publicChat/streaming/events/stream"])
def test_the_customer_side_refuses_an_agents_session(module_org: Org, ada: Agent, path: str) -> None:
    customer = module_org.customer()
    headers = {"Authorization": f"Bearer {customer.token}", "via-client-sessionid": ada.session_id}
    r = module_org.http.get(module_org.base + path, params={"timeout": 0}, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["errors"][0]["reason"] == "invalidSession"

"""GET /metrics against a real server, parsed by the Prometheus client's own parser (contract 13)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from tests.e2e.server import Org, ServerProcess, open_chat, running_server

TOKEN = "metrics-token-for-the-test"
FAMILIES = {
    "parley_http_requests": ("counter", {"route", "method", "status"}),
    "parley_http_request_duration_seconds": ("histogram", {"route"}),
    "parley_messages": ("counter", {"channel", "entity_type"}),
    "parley_events_delivered": ("counter", {"transport"}),
    "parley_streaming_sessions": ("gauge", {"transport"}),
    "parley_interactions": ("gauge", {"state"}),
    "parley_queue_waiting": ("gauge", set()),
    "parley_queue_oldest_wait_seconds": ("gauge", set()),
    "parley_offers": ("counter", {"outcome"}),
    "parley_sms": ("counter", {"direction", "status"}),
    "parley_webhook_deliveries": ("counter", {"outcome"}),
    "parley_store_commit_seconds": ("histogram", set()),
    "parley_rate_limited": ("counter", set()),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("metrics")
    env = {"PARLEY_DATABASE_URL": f"sqlite:///{data / 'parley.db'}", "PARLEY_METRICS_TOKEN": TOKEN}
    with running_server(data, env) as s:
        yield s


def scrape(server: ServerProcess) -> dict[str, list[Sample]]:
    r = httpx.get(server.base_url + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    for name, (kind, labels) in FAMILIES.items():
        assert name in families, f"{name} missing"
        assert families[name].type == kind, name
        for sample in families[name].samples:
            assert labels <= set(sample.labels), (name, sample)
    return {name: f.samples for name, f in families.items()}


def value(samples: list[Sample], suffix: str = "", **labels: str) -> float:
    return sum(
        s.value for s in samples if s.name.endswith(suffix) and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_need_the_configured_token(server: ServerProcess) -> None:
    assert httpx.get(server.base_url + "/metrics").status_code == 401
    wrong = httpx.get(server.base_url + "/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["scope"] == "authorization"


def test_a_conversation_is_counted_in_every_family_it_touches(server: ServerProcess) -> None:
    creds = server.bootstrap("acme")
    org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    before = scrape(server)
    agent = org.agent(org.create_user("Ada", "Metrics"))
    assert agent.ready(max_concurrent=2).status_code == 202
    customer, interaction = open_chat(org, agent)
    waiting = org.customer()
    waiting.start_chat("Queued Quentin")  # the agent still has a slot: offered, not queued
    assert agent.send_text(interaction, "hello").status_code == 202
    customer.wait_for("messaging.Text")
    after = scrape(server)

    def grew(family: str, suffix: str = "", **labels: str) -> float:
        return value(after[family], suffix, **labels) - value(before[family], suffix, **labels)

    send_text = "/via/v2/organizations/{orgId}/messaging/users/{userId}/sendText"
    assert grew("parley_http_requests", route=send_text, method="POST", status="202") == 1
    assert grew("parley_http_request_duration_seconds", "_count", route=send_text) == 1
    assert grew("parley_messages", channel="chat", entity_type="Agent") == 1
    assert grew("parley_events_delivered", transport="longpoll") >= 3
    assert grew("parley_offers", outcome="accepted") == 1
    assert value(after["parley_interactions"], state="active") == 1
    assert value(after["parley_interactions"], state="offered") == 1
    assert value(after["parley_queue_waiting"]) == 0
    assert grew("parley_store_commit_seconds", "_count") >= 3
    assert value(after["parley_offers"], outcome="timeout") == 0  # every outcome is there from the start
    org.http.close()


def test_a_rate_limited_request_is_counted(tmp_path: Path) -> None:
    env = {"PARLEY_RATE_LIMIT_PER_SECOND": "1", "PARLEY_RATE_LIMIT_BURST": "1"}
    with running_server(tmp_path / "data", env) as server:
        creds = server.bootstrap("acme")
        org = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
        statuses = [
            org.http.post(org.base + "/streaming/session", json={}, headers=org.headers()).status_code for _ in range(3)
        ]
        assert 429 in statuses
        r = httpx.get(server.base_url + "/metrics")  # open: no token configured
        families = {f.name: f for f in text_string_to_metric_families(r.text)}
        assert value(families["parley_rate_limited"].samples) == statuses.count(429)
        org.http.close()


def test_metrics_can_be_turned_off(tmp_path: Path) -> None:
    with running_server(tmp_path / "data", {"PARLEY_METRICS": "off"}) as server:
        assert httpx.get(server.base_url + "/metrics").status_code == 404

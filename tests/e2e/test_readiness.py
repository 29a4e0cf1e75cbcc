"""/healthz and /readyz against a real server (contract 13)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.e2e.own_redis import own_redis
from tests.e2e.server import ServerProcess, running_server


def test_readiness_names_storage_and_events_when_both_answer(server: ServerProcess) -> None:
    assert httpx.get(server.base_url + "/healthz").json() == {"status": "ok"}
    r = httpx.get(server.base_url + "/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"storage": "ok", "events": "ok"}}


def test_a_hung_event_engine_makes_the_server_unready_within_the_bound_and_ready_again(tmp_path: Path) -> None:
    with own_redis(tmp_path / "redis") as redis:
        env = {"PARLEY_DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}", "PARLEY_EVENTS_URL": redis.url}
        with running_server(tmp_path / "data", env) as server:
            assert httpx.get(server.base_url + "/readyz").status_code == 200
            with redis.hung():
                started = time.monotonic()
                r = httpx.get(server.base_url + "/readyz", timeout=10)
                elapsed = time.monotonic() - started
                alive = httpx.get(server.base_url + "/healthz", timeout=10)
            assert r.status_code == 503, r.text
            assert r.json() == {"status": "unavailable", "checks": {"storage": "ok", "events": "timeout"}}
            assert r.headers["retry-after"] == "1"
            assert 0.9 <= elapsed < 3
            assert alive.status_code == 200  # liveness asks nothing of Redis
            deadline = time.monotonic() + 5
            while (r := httpx.get(server.base_url + "/readyz", timeout=5)).status_code != 200:
                assert time.monotonic() < deadline, r.text
                time.sleep(0.1)

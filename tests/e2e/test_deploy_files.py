"""The files in deploy/ work as shipped: systemd accepts the unit, HAProxy spreads requests over
two instances and keeps answering through a rolling restart, the dashboard asks for real families."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest
import yaml

from tests.e2e.conftest import fresh_postgres_database
from tests.e2e.own_redis import own_redis
from tests.e2e.server import PARLEY, ServerProcess, free_port, start_server
from tests.e2e.test_metrics import FAMILIES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SUFFIXES = ("_total", "_bucket", "_count", "_sum")
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_systemd_unit_verifies_clean(tmp_path: Path) -> None:
    unit = tmp_path / "parley.service"
    # The unit expects Parley in /opt/parley/.venv; verify checks the programs exist, so point it at this one.
    unit.write_text((DEPLOY / "parley.service").read_text().replace("/opt/parley/.venv/bin/parley", PARLEY))
    done = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_dashboard_and_the_scrape_example_name_only_real_families() -> None:
    dashboard = json.loads((DEPLOY / "grafana-dashboard.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    used = {re.sub("(" + "|".join(SUFFIXES) + ")$", "", name) for e in exprs for name in re.findall(r"parley_\w+", e)}
    assert used == set(FAMILIES), set(FAMILIES) ^ used  # every family has a panel, and no panel a made-up one
    scrape = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())["scrape_configs"][0]
    assert scrape["metrics_path"] == "/metrics" and scrape["static_configs"][0]["targets"]


@contextmanager
def haproxy(listen: int, servers: list[ServerProcess]) -> Iterator[str]:
    env = {**os.environ, "PARLEY_LISTEN": f"127.0.0.1:{listen}"}
    env |= {f"PARLEY_{n}": s.base_url.removeprefix("http://") for n, s in enumerate(servers, 1)}
    process = subprocess.Popen([HAPROXY, "-db", "-f", str(DEPLOY / "haproxy.cfg")], env=env)
    base = f"http://127.0.0.1:{listen}"
    try:
        deadline = time.monotonic() + 10
        while True:  # up, and both instances seen healthy
            try:
                served = {httpx.get(base + "/readyz").headers.get("x-served-by") for _ in range(4)}
                if served == {"parley1", "parley2"}:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "haproxy did not come up with both instances"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.postgres
@pytest.mark.skipif(not Path(HAPROXY).exists(), reason="haproxy is not installed (scripts/install-haproxy.sh)")
def test_haproxy_spreads_requests_and_a_rolling_restart_loses_none(tmp_path: Path) -> None:
    with ExitStack() as stack:
        database = stack.enter_context(fresh_postgres_database())
        redis = stack.enter_context(own_redis(tmp_path / "redis"))
        env = {"PARLEY_DATABASE_URL": database, "PARLEY_EVENTS_URL": redis.url}
        servers = [start_server(tmp_path / f"data{n}", env) for n in (1, 2)]
        for server in servers:
            stack.callback(server.stop)
        base = stack.enter_context(haproxy(free_port(), servers))
        served = Counter(httpx.get(base + "/healthz").headers["x-served-by"] for _ in range(6))
        assert served == {"parley1": 3, "parley2": 3}  # round robin, no affinity
        servers[0].process.terminate()  # SIGTERM: the first instance drains and stops
        statuses: Counter[int] = Counter()
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            statuses[httpx.get(base + "/healthz", timeout=5).status_code] += 1
        servers[0].stop()
        assert set(statuses) == {200}, statuses

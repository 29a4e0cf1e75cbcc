"""The token endpoint's requests/s against the bare-ASGI ceiling, and ``parley serve``'s cold start.

1. the ceiling: ``baseline_asgi.py`` under ``wrk -t1 -c64 -d10s`` (the sendText POST of
   ``performance.md``), so the ratio is comparable with ``bench_send_text.py``;
2. Parley: ``POST /tokenservice/oauth2/access_token?realm=...`` with a form body and HTTP Basic
   client authentication under the same wrk load; each 200 issues and stores a new token;
3. cold start: from exec of ``parley serve`` to the first 200 on ``/healthz``, first in a fresh
   data directory (so it includes creating the SQLite schema), then restarted on the same one
   (the schema is current, so the migration tool is not even loaded); the median of five each.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import (
    LOAD_CORE,
    PARLEY,
    SERVER_CORE,
    ParleyServer,
    WrkResult,
    free_port,
    hot_path,
    lua_request,
    on_core,
    pin_self,
    pinned,
    ratio,
    require_tools,
    run_ceiling,
    run_wrk,
    stop,
)


def measure_tokens(seconds: int, connections: int) -> WrkResult:
    with ParleyServer() as server:
        server.start()
        creds = json.loads(server.cli("admin", "bootstrap", "bench", "--json"))
        basic = base64.b64encode(f"{creds['clientId']}:{creds['clientSecret']}".encode()).decode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {basic}"}
        script = lua_request("POST", "grant_type=client_credentials", headers)
        url = f"{server.base_url}/tokenservice/oauth2/access_token?realm=bench"
        return run_wrk(url, script, server.pid, seconds, connections)


def _healthy(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def cold_start(data_dir: str) -> float:
    """Seconds from exec to the first 200 on /healthz, with ``data_dir`` as the data directory."""
    port = free_port()
    env = {**os.environ, "PARLEY_DATA_DIR": data_dir, "PARLEY_LOG_LEVEL": "warning"}
    argv = on_core(SERVER_CORE, [PARLEY, "serve", "--port", str(port)])
    started = time.perf_counter()
    process = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL)
    try:
        while not _healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"parley serve exited with {process.returncode}")
            if time.perf_counter() - started > 60:
                raise SystemExit("parley serve did not become healthy within 60 s")
            time.sleep(0.002)
        return time.perf_counter() - started
    finally:
        stop(process)


def cold_starts(starts: int) -> tuple[list[float], list[float]]:
    """First starts (a fresh data directory: the schema is created) and restarts (it is current)."""
    first, again = [], []
    for _ in range(starts):
        with tempfile.TemporaryDirectory(prefix="parley-cold-") as data_dir:
            first.append(cold_start(data_dir))
            again.append(cold_start(data_dir))
    return first, again


def measure(seconds: int, connections: int, starts: int) -> dict[str, Any]:
    ceiling = run_ceiling(seconds)
    tokens = measure_tokens(seconds, connections)
    pin_self(LOAD_CORE)
    cold, restart = cold_starts(starts)
    return {
        "cores": os.cpu_count(),
        "hot_path": hot_path(),
        "pinned": pinned(SERVER_CORE) and pinned(LOAD_CORE),
        "seconds": seconds,
        "connections": connections,
        "ceiling": ceiling.__dict__,
        "tokens": tokens.__dict__,
        "ratio": ratio(tokens.rps, ceiling.rps),
        "cold_start_seconds": cold,
        "restart_seconds": restart,
    }


def report(result: dict[str, Any]) -> str:
    ceiling, tokens = WrkResult(**result["ceiling"]), WrkResult(**result["tokens"])
    cold, restart = result["cold_start_seconds"], result["restart_seconds"]
    pin = "server on core 0, load on core 1" if result["pinned"] else "NOT pinned"
    lines = [
        f"token benchmark: {result['cores']} cores, {pin}; wrk -t1 -c{result['connections']} -d{result['seconds']}s",
        f"Parley's hot path: {result['hot_path']}",
        "",
        f"  {'':<38}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'CPU µs/req':>12}{'× ceiling':>11}",
    ]
    for name, r in (("ceiling: bare ASGI + msgspec", ceiling), ("Parley token endpoint (Basic, form)", tokens)):
        lines.append(
            f"  {name:<38}{r.rps:>10,.0f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.server_cpu_us:>12.1f}"
            f"{ratio(r.rps, ceiling.rps):>11.2f}"
        )
    lines += [
        f"  non-2xx {tokens.non_2xx}, socket errors {tokens.socket_errors}",
        "",
        f"cold start of parley serve (exec → first 200 on /healthz), {len(cold)} runs each:",
        f"  first start, fresh data dir (creates the schema)  {_spread(cold)}",
        f"  restart, schema already current                  {_spread(restart)}",
    ]
    return "\n".join(lines)


def _spread(seconds: list[float]) -> str:
    ms = [s * 1000 for s in seconds]
    return f"median {statistics.median(ms):.0f} ms  (min {min(ms):.0f}, max {max(ms):.0f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--starts", type=int, default=5, help="cold starts to time (default 5)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    require_tools()
    result = measure(args.seconds, args.connections, args.starts)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

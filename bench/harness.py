"""What every benchmark shares: pinned processes, wrk runs, a Parley server with a live chat.

The server runs on core 0 and every load generator on core 1 (``taskset``), as in
``performance.md``; on a machine with fewer than two cores nothing is pinned.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

import httpx

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
PARLEY = str(Path(sys.executable).with_name("parley"))
SERVER_CORE = 0
LOAD_CORE = 1
BODY_BYTES = 142  # the SendText body of performance.md


def hot_path() -> str:
    """What a Parley server started from here runs: how many modules are compiled, or why none."""
    code = "import parley._native as n; print(n.STATUS)"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def pinned(core: int) -> bool:
    return shutil.which("taskset") is not None and (os.cpu_count() or 1) >= 2 and core < (os.cpu_count() or 1)


def on_core(core: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(core), *argv] if pinned(core) else argv


def pin_self(core: int) -> None:
    """Pin the calling process (a load generator written in Python)."""
    if pinned(core):
        os.sched_setaffinity(0, {core})


def require_tools() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.02)
    process.kill()
    raise SystemExit(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of proc(5))
    return ticks / os.sysconf("SC_CLK_TCK")


# -- wrk ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    server_cpu_us: float  # server CPU time per request, all threads

    @property
    def ok(self) -> int:
        return self.requests - self.non_2xx


def lua_request(method: str, body: str, headers: dict[str, str]) -> str:
    lines = [f'wrk.method = "{method}"', f"wrk.body = [==[{body}]==]"]
    lines += [f'wrk.headers["{name}"] = [==[{value}]==]' for name, value in headers.items()]
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    parsed = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if parsed is None:
        raise ValueError(f"not a wrk duration: {text!r}")
    number, unit = parsed.groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, script: str, server_pid: int, seconds: int = 10, connections: int = 64) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    try:
        argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", f.name, url]
        cpu_before = cpu_seconds(server_pid)
        out = subprocess.run(on_core(LOAD_CORE, argv), capture_output=True, text=True, check=True).stdout
        cpu = cpu_seconds(server_pid) - cpu_before
    finally:
        os.unlink(f.name)
    done = re.search(r"(\d+) requests in ([\d.]+)(\w+),", out)
    if done is None:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    requests = int(done.group(1))
    seconds_taken = _ms(done.group(2) + done.group(3)) / 1000
    try:
        return _wrk_result(out, requests, seconds_taken, cpu)
    except (AttributeError, ValueError) as exc:
        raise SystemExit(f"cannot read wrk output ({exc}):\n{out}") from None


def _wrk_result(out: str, requests: int, seconds_taken: float, cpu: float) -> WrkResult:
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return WrkResult(
        requests=requests,
        seconds=seconds_taken,
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(re.search(r"^\s*50%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        p99_ms=_ms(re.search(r"^\s*99%\s+(\S+)", out, re.MULTILINE).group(1)),  # type: ignore[union-attr]
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in errors.groups()) if errors else 0,
        server_cpu_us=cpu / max(requests, 1) * 1e6,
    )


# -- the ceiling ----------------------------------------------------------------------------------------
def send_text_body(interaction_id: str, tag: str = "") -> str:
    """A SendText body of exactly ``BODY_BYTES`` bytes whose text starts with ``tag``."""
    head = json.dumps(
        {"interactionId": interaction_id, "entityName": "Agent Smith", "entityType": "Agent", "text": tag},
        separators=(",", ":"),
    )
    padding = BODY_BYTES - len(head)
    if padding < 0:
        raise ValueError("the interaction id is too long for a 142-byte body")
    return head[:-2] + "." * padding + head[-2:]


class Ceiling:
    """The bare ASGI app on core 0, kept running so that its runs can alternate with Parley's."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Ceiling:
        argv = [PYTHON, str(BENCH / "baseline_asgi.py"), "--port", str(self.port)]
        self.process = subprocess.Popen(on_core(SERVER_CORE, argv))
        _wait_port(self.port, self.process)
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None:
            stop(self.process)

    def run(self, seconds: int = 10) -> WrkResult:
        """wrk against the bare ASGI app with the same body and headers Parley gets."""
        assert self.process is not None
        headers = {
            "Content-Type": "application/json",
            "Authorization": "Bearer pat_" + "x" * 43,
            "x-api-key": "pak_" + "x" * 43,
            "via-client-sessionid": "ses_" + "0" * 32,
        }
        body = send_text_body("int_" + "0" * 32)
        url = f"http://127.0.0.1:{self.port}/via/v2/organizations/bench/messaging/users/usr_0/sendText"
        return run_wrk(url, lua_request("POST", body, headers), self.process.pid, seconds)


def run_ceiling(seconds: int = 10) -> WrkResult:
    with Ceiling() as ceiling:
        return ceiling.run(seconds)


def _wait_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{process.args!r} exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.02)
    raise SystemExit(f"nothing listens on port {port} after {timeout} s")


# -- Parley ---------------------------------------------------------------------------------------------
class ParleyServer:
    """``parley serve`` on SQLite in a fresh data directory, rate limits off, pinned to core 0."""

    def __init__(self, env: dict[str, str] | None = None) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="parley-bench-")
        self.data_dir = Path(self._tmp.name)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PARLEY_DATA_DIR": str(self.data_dir),
            "PARLEY_LOG_LEVEL": "warning",
            "PARLEY_RATE_LIMIT_PER_SECOND": "0",
            **(env or {}),
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cli(self, *args: str) -> str:
        return subprocess.run([PARLEY, *args], env=self.env, capture_output=True, text=True, check=True).stdout

    def start(self) -> None:
        argv = on_core(SERVER_CORE, [PARLEY, "serve", "--port", str(self.port)])
        self.process = subprocess.Popen(argv, env=self.env)
        wait_healthy(self.base_url + "/healthz", self.process)

    def close(self) -> None:
        if self.process is not None:
            stop(self.process)
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(frozen=True)
class Chat:
    """An accepted web-chat interaction: everything a sender and the two pollers need."""

    base_url: str
    org_id: str
    client_id: str
    client_secret: str
    access_token: str
    api_key: str
    user_id: str
    agent_session: str
    customer_token: str
    customer_session: str
    interaction_id: str

    @property
    def org_path(self) -> str:
        return f"/via/v2/organizations/{self.org_id}"

    @property
    def send_text_path(self) -> str:
        return f"{self.org_path}/messaging/users/{self.user_id}/sendText"

    def agent_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.access_token}",
            "x-api-key": self.api_key,
            "via-client-sessionid": self.agent_session,
        }

    def customer_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.customer_token}", "via-client-sessionid": self.customer_session}

    def agent_poll_path(self) -> str:
        return f"{self.org_path}/streaming/events?maxEvents=100&timeout=25"

    def customer_poll_path(self) -> str:
        return f"{self.org_path}/publicChat/streaming/events?maxEvents=100&timeout=25"


def _ok(response: httpx.Response, status: int = 200) -> httpx.Response:
    if response.status_code != status:
        raise SystemExit(f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}")
    return response


def _wait_event(http: httpx.Client, path: str, headers: dict[str, str], event_type: str) -> dict[str, object]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        r = _ok(http.get(path, params={"maxEvents": 100, "timeout": 1}, headers=headers))
        for event in r.json()["events"]:
            if event["eventType"] == event_type:
                payload: dict[str, object] = event["payload"]
                return payload
    raise SystemExit(f"no {event_type} within 10 s")


def open_chat(server: ParleyServer, org_id: str = "bench") -> Chat:
    """Bootstrap an org, make an agent ready, have a customer start a chat and the agent accept it."""
    creds = json.loads(server.cli("admin", "bootstrap", org_id, "--json"))
    base = f"/via/v2/organizations/{org_id}"
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        token = _ok(
            http.post(
                f"/tokenservice/oauth2/access_token?realm={org_id}",
                data={"grant_type": "client_credentials"},
                auth=(creds["clientId"], creds["clientSecret"]),
            )
        ).json()["access_token"]
        agent = {"Authorization": f"Bearer {token}", "x-api-key": creds["apiKey"]}
        user = {"firstName": "Ada", "lastName": "Agent", "email": "ada@bench.example"}
        user_id = _ok(http.post(base + "/provisioning/users", json=user, headers=agent), 201).json()["userId"]
        session = _ok(http.post(base + "/streaming/session", json={"userId": user_id}, headers=agent)).json()
        agent["via-client-sessionid"] = session["sessionId"]
        _ok(http.post(f"{base}/engagementCenter/users/{user_id}/ready", json={"maxConcurrent": 1}, headers=agent), 202)

        web_token = _ok(http.post(base + "/webToken", json={})).json()["tokenId"]
        customer = {"Authorization": f"Bearer {web_token}"}
        public = _ok(http.post(base + "/publicChat/streaming/session", json={}, headers=customer)).json()
        customer["via-client-sessionid"] = public["sessionId"]
        chat = {"contactName": "Carla Customer"}
        interaction_id = _ok(http.post(base + "/publicChat/messaging/chat", json=chat, headers=customer)).json()[
            "interactionId"
        ]

        offer = _wait_event(http, base + "/streaming/events", agent, "engagementCenter.Offered")
        accept = {"ehubSessionId": offer["ehubSessionId"]}
        _ok(http.post(f"{base}/engagementCenter/interactions/{interaction_id}/accept", json=accept, headers=agent), 202)
        _wait_event(http, base + "/streaming/events", agent, "engagementCenter.Active")
        _wait_event(http, base + "/publicChat/streaming/events", customer, "engagementCenter.Active")
    return Chat(
        base_url=server.base_url,
        org_id=org_id,
        client_id=creds["clientId"],
        client_secret=creds["clientSecret"],
        access_token=token,
        api_key=creds["apiKey"],
        user_id=user_id,
        agent_session=session["sessionId"],
        customer_token=web_token,
        customer_session=public["sessionId"],
        interaction_id=interaction_id,
    )


def messages_per_interaction(server: ParleyServer) -> dict[str, int]:
    """Committed messages of each interaction, read straight from the SQLite file."""
    import sqlite3

    with sqlite3.connect(server.data_dir / "parley.db") as db:
        rows = db.execute("SELECT interaction_id, count(*) FROM messages GROUP BY interaction_id").fetchall()
    return {interaction_id: int(count) for interaction_id, count in rows}


def messages_stored(server: ParleyServer, interaction_id: str) -> int:
    """Committed messages of one interaction."""
    return messages_per_interaction(server).get(interaction_id, 0)


def ratio(value: float, ceiling: float) -> float:
    return value / ceiling if ceiling else 0.0

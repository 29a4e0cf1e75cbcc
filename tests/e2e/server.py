"""Run a real ``parley serve`` process for tests, and talk to it like an agent desktop would."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PARLEY = str(Path(sys.executable).with_name("parley"))
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    base_url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def cli(self, *args: str) -> str:
        done = subprocess.run([PARLEY, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False)
        if done.returncode != 0:
            raise AssertionError(f"parley {' '.join(args)} failed: {done.stderr}")
        return done.stdout

    def bootstrap(self, org: str) -> dict[str, str]:
        creds: dict[str, str] = json.loads(self.cli("admin", "bootstrap", org, "--json"))
        return creds

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self, timeout: float = 45) -> None:
        """SIGTERM, as an operator stops it; a server that does not exit in time fails with its log."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"parley serve did not stop within {timeout} s of SIGTERM:\n{self.log()}") from None
        if self.process.returncode not in (0, -signal.SIGTERM):  # uvicorn ends by re-raising the SIGTERM
            raise AssertionError(f"parley serve stopped with {self.process.returncode}:\n{self.log()}")


def _die_with_parent() -> None:
    """In the child before exec: the kernel sends it SIGTERM if the test run dies, however it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_server(
    data_dir: Path, env: dict[str, str] | None = None, port: int | None = None, serve_args: tuple[str, ...] = ()
) -> ServerProcess:
    port = port or free_port()
    full_env = {**os.environ, "PARLEY_DATA_DIR": str(data_dir), "PARLEY_LOG_LEVEL": "warning", **(env or {})}
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / f"server-{port}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [PARLEY, "serve", "--port", str(port), *serve_args],
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    base = f"http://127.0.0.1:{port}"
    server = ServerProcess(base, full_env, process, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"parley serve exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"parley serve did not come up:\n{server.log()}")


@contextmanager
def running_server(data_dir: Path, env: dict[str, str] | None = None) -> Iterator[ServerProcess]:
    server = start_server(data_dir, env)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Org:
    """An organization's credentials and an authenticated HTTP client for its agent side."""

    server: ServerProcess
    org_id: str
    client_id: str
    client_secret: str
    api_key: str
    http: httpx.Client = field(init=False)
    token: str = field(init=False, default="")

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.server.base_url, timeout=70)
        self.token = self.fetch_token()

    @property
    def base(self) -> str:
        return f"/via/v2/organizations/{self.org_id}"

    def fetch_token(self, scope: str | None = None) -> str:
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        r = self.http.post(
            f"/tokenservice/oauth2/access_token?realm={self.org_id}",
            data=data,
            auth=(self.client_id, self.client_secret),
        )
        assert r.status_code == 200, r.text
        return str(r.json()["access_token"])

    def headers(self, session_id: str | None = None, **extra: str) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}", "x-api-key": self.api_key}
        if session_id:
            h["via-client-sessionid"] = session_id
        h.update(extra)
        return h

    def create_user(self, first: str, last: str, roles: list[str] | None = None) -> str:
        body: dict[str, Any] = {"firstName": first, "lastName": last, "email": f"{first.lower()}.{last.lower()}@ex.com"}
        if roles:
            body["roles"] = roles
        r = self.http.post(self.base + "/provisioning/users", json=body, headers=self.headers())
        assert r.status_code == 201, r.text
        return str(r.json()["userId"])

    def agent(self, user_id: str, **session: Any) -> Agent:
        r = self.http.post(
            self.base + "/streaming/session", json={"userId": user_id, **session}, headers=self.headers()
        )
        assert r.status_code == 200, r.text
        return Agent(self, user_id, str(r.json()["sessionId"]))

    def customer(self) -> Customer:
        return Customer(self)


class EventReader:
    """Keeps what a session received so a test can wait for one event without losing the others."""

    inbox: list[dict[str, Any]]
    seen: list[dict[str, Any]]

    def fetch(self, max_events: int = 100, timeout: int = 0) -> list[dict[str, Any]]:
        raise NotImplementedError

    def pull(self, timeout: int = 0) -> None:
        got = self.fetch(100, timeout)
        self.inbox.extend(got)
        self.seen.extend(got)

    def wait_for(self, event_type: str, timeout: float = 10.0, **payload: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self.inbox):
                if event["eventType"] == event_type and all(event["payload"].get(k) == v for k, v in payload.items()):
                    return self.inbox.pop(i)
            if time.monotonic() >= deadline:
                raise AssertionError(f"no {event_type} {payload} within {timeout} s; inbox: {self.inbox}")
            self.pull(timeout=1)

    def drain(self, wait: int = 0) -> list[dict[str, Any]]:
        self.pull(wait)
        got, self.inbox = self.inbox, []
        return got


@dataclass
class Agent(EventReader):
    org: Org
    user_id: str
    session_id: str
    inbox: list[dict[str, Any]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return self.org.http.post(
            self.org.base + path,
            json=body if body is not None else {},
            headers=self.org.headers(self.session_id, **headers),
        )

    def send_text(self, interaction_id: str, text: str, entity_type: str = "Agent", **headers: str) -> httpx.Response:
        return self.post(
            f"/messaging/users/{self.user_id}/sendText",
            {"interactionId": interaction_id, "entityName": "Agent Smith", "entityType": entity_type, "text": text},
            **headers,
        )

    def fetch(self, max_events: int = 100, timeout: int = 0) -> list[dict[str, Any]]:
        r = self.org.http.get(
            self.org.base + "/streaming/events",
            params={"maxEvents": max_events, "timeout": timeout},
            headers=self.org.headers(self.session_id),
        )
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()["events"]
        return events

    def ready(self, max_concurrent: int = 1) -> httpx.Response:
        return self.post(f"/engagementCenter/users/{self.user_id}/ready", {"maxConcurrent": max_concurrent})


@dataclass
class Customer(EventReader):
    org: Org
    token: str = ""
    session_id: str = ""
    interaction_id: str = ""
    inbox: list[dict[str, Any]] = field(default_factory=list)
    seen: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        r = self.org.http.post(self.org.base + "/webToken", json={})
        assert r.status_code == 200, r.text
        self.token = r.json()["tokenId"]
        r = self.org.http.post(self.org.base + "/publicChat/streaming/session", json={}, headers=self.headers())
        assert r.status_code == 200, r.text
        self.session_id = r.json()["sessionId"]

    def headers(self) -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.token}"}
        if self.session_id:
            h["via-client-sessionid"] = self.session_id
        return h

    def post(self, path: str, body: Any) -> httpx.Response:
        return self.org.http.post(self.org.base + "/publicChat" + path, json=body, headers=self.headers())

    def start_chat(self, name: str = "Carla Customer") -> str:
        r = self.post("/messaging/chat", {"contactName": name})
        assert r.status_code == 200, r.text
        self.interaction_id = r.json()["interactionId"]
        return self.interaction_id

    def fetch(self, max_events: int = 100, timeout: int = 0) -> list[dict[str, Any]]:
        r = self.org.http.get(
            self.org.base + "/publicChat/streaming/events",
            params={"maxEvents": max_events, "timeout": timeout},
            headers=self.headers(),
        )
        assert r.status_code == 200, r.text
        events: list[dict[str, Any]] = r.json()["events"]
        return events


def open_chat(org: Org, agent: Agent, name: str = "Carla") -> tuple[Customer, str]:
    """A customer starts a chat and ``agent`` (ready, with free slots) accepts it."""
    customer = org.customer()
    interaction = customer.start_chat(name)
    offer = agent.wait_for("engagementCenter.Offered", interactionId=interaction)["payload"]
    r = agent.post(f"/engagementCenter/interactions/{interaction}/accept", {"ehubSessionId": offer["ehubSessionId"]})
    assert r.status_code == 202, r.text
    agent.wait_for("engagementCenter.Active", interactionId=interaction)
    customer.wait_for("engagementCenter.Active")
    return customer, interaction

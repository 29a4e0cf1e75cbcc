"""A scripted stand-in for the network, for transport-level tests (``httpx.MockTransport``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from parley_client import AsyncClient, Client, Retries

URL = "http://parley.test"
TOKEN_PATH = "/tokenservice/oauth2/access_token"
QUICK = Retries(attempts=3, backoff=0.001, max_backoff=0.002)

Handler = Callable[[httpx.Request], httpx.Response]


def error(status: int, reason: str, scope: str = "body", **headers: str) -> httpx.Response:
    body = {"code": status, "message": "nope", "errors": [{"scope": scope, "reason": reason, "message": reason}]}
    return httpx.Response(status, json=body, headers={"x-request-id": f"req-{status}", **headers})


@dataclass
class FakeServer:
    """Answers the token service itself and hands every other request to ``api``."""

    api: Handler
    expires_in: int = 3600
    token_error: httpx.Response | None = None
    tokens_issued: int = 0
    token_calls: list[httpx.Request] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    bearers: list[str] = field(default_factory=list)  # as sent: a repeated request is the same object
    keys: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == TOKEN_PATH:
            self.token_calls.append(request)
            if self.token_error is not None:
                return self.token_error
            self.tokens_issued += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"tok-{self.tokens_issued}",
                    "scope": "messagingapi",
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                },
            )
        self.requests.append(request)
        self.bearers.append(request.headers.get("authorization", ""))
        self.keys.append(request.headers.get("idempotency-key", ""))
        return self.api(request)

    def client(self, **options: Any) -> Client:
        return Client(URL, transport=httpx.MockTransport(self), **{**credentials(), "retries": QUICK, **options})

    def async_client(self, **options: Any) -> AsyncClient:
        return AsyncClient(URL, transport=httpx.MockTransport(self), **{**credentials(), "retries": QUICK, **options})


def credentials() -> dict[str, str]:
    return {"org": "acme", "client_id": "cid", "client_secret": "s3cret", "api_key": "key-1"}


def session_body(session_id: str = "ses_1", require_ack: bool = False) -> dict[str, Any]:
    return {
        "sessionId": session_id,
        "creationTime": "2026-01-01T00:00:00.000Z",
        "inactivityDelay": 60,
        "requireAcknowledgement": require_ack,
        "userId": "usr_1",
    }


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content) if request.content else None

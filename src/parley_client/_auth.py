"""Credentials as httpx auth flows.

``ClientCredentials`` is OAuth2 client credentials against the token service: it fetches a
token with HTTP Basic, keeps it until shortly before it expires, and on a 401 that blames the
token fetches a new one and repeats the request once. Requests waiting for a token share one
fetch; requests that already hold a token never wait for each other.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncGenerator, Callable, Generator
from urllib.parse import quote

import httpx
import msgspec

from parley_client._exceptions import DecodingError, error_from_response
from parley_client._models import Token

TOKEN_PATH = "/tokenservice/oauth2/access_token"


def token_url(base_url: str, org: str) -> str:
    return f"{base_url.rstrip('/')}{TOKEN_PATH}?realm={quote(org, safe='')}"


def blames_token(response: httpx.Response) -> bool:
    """A 401 about the bearer token (not the API key): a fresh token may fix it."""
    try:
        errors = json.loads(response.content).get("errors") or []
        return any(e.get("scope") == "authorization" for e in errors)
    except (ValueError, AttributeError):
        return True


class ClientCredentials(httpx.Auth):
    """OAuth2 client credentials for one organization (the token service's ``realm``)."""

    def __init__(
        self,
        base_url: str,
        org: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None = None,
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = token_url(base_url, org)
        self.client_id = client_id
        self._secret = client_secret
        self.scope = scope
        self.refresh_margin = refresh_margin
        self._clock = clock
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()
        self._alock: asyncio.Lock | None = None

    # -- sans I/O ------------------------------------------------------------------------------
    def cached(self) -> str | None:
        """The current token if it is not about to expire."""
        if self._token is not None and self._clock() < self._expires_at:
            return self._token
        return None

    def invalidate(self, token: str | None = None) -> None:
        """Forget the token (only if it is still ``token``, when given)."""
        if token is None or token == self._token:
            self._token = None

    def token_request(self) -> httpx.Request:
        data = {"grant_type": "client_credentials"}
        if self.scope:
            data["scope"] = self.scope
        # RFC 6749 section 2.3.1: both parts are form-urlencoded before the Basic encoding.
        basic = httpx.BasicAuth(quote(self.client_id, safe=""), quote(self._secret, safe=""))
        request = httpx.Request("POST", self.url, data=data)
        return next(basic.auth_flow(request))

    def store(self, response: httpx.Response) -> str:
        if response.status_code != 200:
            raise error_from_response(response)
        try:
            token = msgspec.json.decode(response.content, type=Token)
        except msgspec.DecodeError as exc:
            raise DecodingError(f"token service answer: {exc}") from None
        margin = min(self.refresh_margin, token.expires_in / 10)
        self._token = token.access_token
        self._expires_at = self._clock() + token.expires_in - margin
        return token.access_token

    # -- httpx flows -----------------------------------------------------------------------------
    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self.cached()
        if token is None:
            with self._lock:
                token = self.cached()
                if token is None:
                    answer = yield self.token_request()
                    answer.read()
                    token = self.store(answer)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        response.read()
        if not blames_token(response):
            return
        with self._lock:
            self.invalidate(token)
            token = self.cached()
            if token is None:
                answer = yield self.token_request()
                answer.read()
                token = self.store(answer)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        lock = self._async_lock()
        token = self.cached()
        if token is None:
            async with lock:
                token = self.cached()
                if token is None:
                    answer = yield self.token_request()
                    await answer.aread()
                    token = self.store(answer)
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code != 401:
            return
        await response.aread()
        if not blames_token(response):
            return
        async with lock:
            self.invalidate(token)
            token = self.cached()
            if token is None:
                answer = yield self.token_request()
                await answer.aread()
                token = self.store(answer)
        request.headers["Authorization"] = f"Bearer {token}"
        yield request

    # -- for connections httpx does not make (WebSockets) --------------------------------------
    def get_token(self, http: httpx.Client) -> str:
        with self._lock:
            token = self.cached()
            if token is None:
                token = self.store(http.send(self.token_request(), auth=None))
            return token

    async def aget_token(self, http: httpx.AsyncClient) -> str:
        async with self._async_lock():
            token = self.cached()
            if token is None:
                token = self.store(await http.send(self.token_request(), auth=None))
            return token

    def _async_lock(self) -> asyncio.Lock:
        if self._alock is None:
            self._alock = asyncio.Lock()
        return self._alock


class BearerToken(httpx.Auth):
    """A fixed bearer token read when each request is sent (the web-chat customer's web token)."""

    def __init__(self, token: Callable[[], str | None]) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._token()
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        yield request

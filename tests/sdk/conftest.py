"""One real ``parley serve`` for the whole SDK suite; a fresh organization for every test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from parley_client import AsyncClient, AsyncWebChatClient, Client, Retries, Role, User, WebChatClient
from tests.e2e import server as e2e
from tests.e2e.server import ServerProcess, running_server

FAST = Retries(attempts=2, backoff=0.05, max_backoff=0.2)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("sdk-server")
    env = {"PARLEY_DATABASE_URL": f"sqlite:///{data / 'parley.db'}", "PARLEY_WEBHOOK_ALLOW_PRIVATE": "1"}
    with running_server(data, env) as s:
        yield s


class Org(e2e.Org):
    """An organization of the e2e harness, with SDK clients for it."""

    @property
    def url(self) -> str:
        return self.server.base_url

    def options(self, **overrides: Any) -> dict[str, Any]:
        mine = {"org": self.org_id, "client_id": self.client_id, "client_secret": self.client_secret}
        return {**mine, "api_key": self.api_key, "retries": FAST, **overrides}

    def client(self, url: str | None = None, **overrides: Any) -> Client:
        return Client(url or self.url, **self.options(**overrides))

    def async_client(self, url: str | None = None, **overrides: Any) -> AsyncClient:
        return AsyncClient(url or self.url, **self.options(**overrides))

    def web_chat(self) -> WebChatClient:
        return WebChatClient(self.url, org=self.org_id, retries=FAST)

    def async_customer(self) -> AsyncWebChatClient:
        return AsyncWebChatClient(self.url, org=self.org_id, retries=FAST)

    def user(self, first: str, last: str = "Tester", roles: list[Role] | None = None) -> User:
        email = f"{first.lower()}.{last.lower()}@example.com"
        with self.client() as admin:
            return admin.create_user(first, last, email, preferred_name=first, roles=roles)


@pytest.fixture
def org(server: ServerProcess) -> Iterator[Org]:
    creds = server.bootstrap(f"sdk-{uuid.uuid4().hex[:10]}")
    o = Org(server, creds["orgId"], creds["clientId"], creds["clientSecret"], creds["apiKey"])
    yield o
    o.http.close()

"""Webhook deliveries over HTTP with httpx, safe against server-side request forgery.

The receiver's name is resolved at every attempt and the connection goes to the address that
was checked (the name still given as ``Host`` and as the TLS server name, and the certificate
checked against it), so a name that resolves to a public address when the webhook is made and
to 127.0.0.1 later (DNS rebinding) is refused rather than followed. Redirects are answers like
any other non-2xx; at most 64 KiB of an answer is read. One client per receiver host keeps its
connections alive between deliveries.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
import ssl
from collections import OrderedDict
from typing import Final

import httpx

from parley.domain.webhooks import is_public, literal_address
from parley.service.ports import WebhookAnswer

TIMEOUT_SECONDS: Final = 10.0
MAX_ANSWER_BYTES: Final = 64 * 1024
MAX_HOSTS: Final = 256  # receiver hosts whose connections are kept
CONNECTIONS_PER_HOST: Final = 8


class HttpWebhookSender:
    def __init__(self, allow_private: bool, timeout: float = TIMEOUT_SECONDS) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        # Made once: loading the certificate store takes a noticeable fraction of a second.
        self._tls = ssl.create_default_context()
        self._clients: OrderedDict[tuple[str, str, int], httpx.AsyncClient] = OrderedDict()

    async def post(self, url: str, headers: dict[str, str], body: bytes) -> WebhookAnswer:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._post(httpx.URL(url), headers, body)
        except TimeoutError:
            return WebhookAnswer(None, f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:
            return WebhookAnswer(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)

    async def _post(self, url: httpx.URL, headers: dict[str, str], body: bytes) -> WebhookAnswer:
        if url.scheme not in ("https", "http") or (url.scheme == "http" and not self.allow_private):
            return WebhookAnswer(None, "only https:// targets are allowed")
        port = url.port or (443 if url.scheme == "https" else 80)
        address = await self._address(url.host, port)
        if isinstance(address, WebhookAnswer):
            return address
        host_header = url.host if url.port is None else f"{url.host}:{url.port}"
        if ":" in url.host:
            host_header = f"[{url.host}]" if url.port is None else f"[{url.host}]:{url.port}"
        target = url.copy_with(host=address)
        extensions = {"sni_hostname": url.host} if url.scheme == "https" else {}
        client = self._client(url.scheme, url.host, port)
        request = client.build_request(
            "POST", target, headers={**headers, "host": host_header}, content=body, extensions=extensions
        )
        response = await client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read >= MAX_ANSWER_BYTES:
                    break
        finally:
            await response.aclose()
        if 200 <= response.status_code < 300:
            return WebhookAnswer(response.status_code)
        return WebhookAnswer(response.status_code, f"answered {response.status_code}")

    async def _address(self, host: str, port: int) -> str | WebhookAnswer:
        """The address to connect to: every address the name has must be allowed."""
        literal = literal_address(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                return WebhookAnswer(None, f"cannot resolve {host}: {exc.strerror or exc}")
            addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
        if not addresses:
            return WebhookAnswer(None, f"cannot resolve {host}")
        for address in addresses:
            if not self.allow_private and not is_public(address):
                return WebhookAnswer(None, f"{host} resolves to {address}: private targets are not allowed")
        return str(addresses[0])

    def _client(self, scheme: str, host: str, port: int) -> httpx.AsyncClient:
        key = (scheme, host, port)
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
            return client
        client = httpx.AsyncClient(
            timeout=self.timeout,
            verify=self._tls,
            follow_redirects=False,
            trust_env=False,  # no proxy from the environment: the checked address is the one reached
            limits=httpx.Limits(max_connections=CONNECTIONS_PER_HOST, max_keepalive_connections=CONNECTIONS_PER_HOST),
        )
        self._clients[key] = client
        if len(self._clients) > MAX_HOSTS:
            _, oldest = self._clients.popitem(last=False)
            closing = asyncio.ensure_future(oldest.aclose())
            _closing.add(closing)
            closing.add_done_callback(_closing.discard)
        return client

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), OrderedDict()
        for client in clients:
            with contextlib.suppress(Exception):
                await client.aclose()


_closing: set[asyncio.Future[None]] = set()  # clients let go of, until they have closed

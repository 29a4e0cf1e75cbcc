"""The customer side of web chat (contract 7). The web token is the only credential."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from parley.api.errors import render_error
from parley.api.http import Request, Response, Route
from parley.api.openapi import ANONYMOUS
from parley.api.routes.common import ORG, json_body, long_poll, optional_json_body, sse
from parley.api.schemas import (
    ChatStarted,
    ContactDisconnect,
    ContactNotification,
    ContactText,
    ContactUrl,
    Empty,
    EventBatch,
    EventQuery,
    PublicSessionInfo,
    StartChat,
    WebTokenResponse,
)
from parley.clock import iso
from parley.domain.errors import ParleyError, Problem, RateLimited
from parley.domain.events import contact_owner
from parley.domain.interactions import EntityType, MessageKind
from parley.service.idempotency import IdempotencyContext
from parley.service.ports import StreamSession
from parley.streaming.websocket import WebSocketStream

if TYPE_CHECKING:
    from parley.bootstrap import Parley

BASE: Final = ORG + "/publicChat"


# Immutable through Final, with __init__ spelled out: see "Values on the hot path" in docs/architecture.md.
@dataclass(slots=True, init=False, unsafe_hash=True)
class ContactCall:
    request: Final[Request]
    org_id: Final[str]
    contact_id: Final[str]
    idempotency: Final[IdempotencyContext | None]

    def __init__(self, request: Request, org_id: str, contact_id: str, idempotency: IdempotencyContext | None) -> None:
        self.request = request
        self.org_id = org_id
        self.contact_id = contact_id
        self.idempotency = idempotency


ContactHandler = Callable[[ContactCall], Awaitable[Response]]


def contact_gate(p: Parley, handler: ContactHandler) -> Callable[[Request], Awaitable[Response]]:
    """What every customer-side request passes: its web token, then idempotency."""

    async def guarded(request: Request) -> Response:
        org_id = request.path_params["orgId"]
        contact_id = p.webchat.verify(org_id, request.headers.get("authorization"))
        idempotency = p.gate.idempotency
        try:
            if not idempotency.applies(request):
                return await handler(ContactCall(request, org_id, contact_id, None))
            return await idempotency.run(
                request,
                contact_owner(contact_id),
                lambda idem: handler(ContactCall(request, org_id, contact_id, idem)),
            )
        except ParleyError as exc:
            return render_error(exc)

    return guarded


def routes(p: Parley) -> tuple[list[Route], list[Route]]:
    def contact(handler: ContactHandler) -> Callable[[Request], Awaitable[Response]]:
        return contact_gate(p, handler)

    async def session_of(call: ContactCall) -> StreamSession:
        return await p.streaming.require(
            call.org_id, call.request.headers.get("via-client-sessionid"), contact_owner(call.contact_id)
        )

    async def web_token(request: Request) -> Response:
        org_id = request.path_params["orgId"]
        for buckets, key, what in (
            (p.webtoken_ip_buckets, f"{org_id}|{request.client_ip}", "this address"),
            (p.webtoken_org_buckets, org_id, "this organization"),
        ):
            decision = buckets.take(key)
            if not decision.allowed:
                raise RateLimited(
                    Problem("webToken", "rateLimited", f"too many web tokens for {what}; retry later"),
                    retry_after=decision.retry_after,
                )
        # With the Authorization of a valid web token this renews it for the same customer.
        authorization = request.headers.get("authorization")
        renewing = p.webchat.verify(org_id, authorization) if authorization else None
        token = await p.webchat.issue_token(org_id, renewing)
        return Response.json({"tokenId": token.token, "expirationTime": iso(token.expires_at)})

    async def open_session(call: ContactCall) -> Response:
        optional_json_body(call.request, Empty)
        session = await p.streaming.open_for_contact(call.org_id, call.contact_id)
        return Response.json(
            {
                "sessionId": session.session_id,
                "creationTime": iso(session.created_at),
                "inactivityDelay": session.inactivity_delay,
            }
        )

    async def poll(call: ContactCall) -> Response:
        return await long_poll(p.streaming, await session_of(call), call.request)

    async def stream(call: ContactCall) -> Response:
        return sse(p.streaming, await session_of(call), call.request)

    async def start_chat(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, StartChat)
        interaction = await p.webchat.start_chat(
            call.org_id, call.contact_id, body.contactName.strip(), body.contactEmail or "", body.contactData
        )
        return Response.json({"interactionId": interaction.interaction_id})

    async def post(call: ContactCall, kind: MessageKind, interaction_id: str, content: str) -> Response:
        message = await p.messaging.contact_post(
            call.org_id, call.contact_id, interaction_id, kind, content, call.idempotency
        )
        return Response(202, b"", [("x-message-id", message.message_id)])

    async def send_text(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, ContactText)
        return await post(call, MessageKind.TEXT, body.interactionId, body.text)

    async def send_url(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, ContactUrl)
        return await post(call, MessageKind.URL, body.interactionId, body.url)

    async def notification(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, ContactNotification)
        await p.messaging.contact_typing(call.org_id, call.contact_id, body.interactionId, body.expiresAfterSeconds)
        return Response(202)

    async def disconnect(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, ContactDisconnect)
        interaction = await p.book.get_for_contact(call.org_id, body.interactionId, call.contact_id)
        await p.engagement.end(interaction, EntityType.CONTACT, "contactDisconnected")
        return Response(202)

    async def authorize_ws(headers: dict[str, str], org_id: str) -> StreamSession:
        contact_id = p.webchat.verify(org_id, headers.get("authorization"))
        return await p.streaming.require(org_id, headers.get("via-client-sessionid"), contact_owner(contact_id))

    async def websocket(scope: MutableMapping[str, Any], receive: Any, send: Any, params: dict[str, str]) -> None:
        await WebSocketStream(p.streaming, lambda h: authorize_ws(h, params["orgId"]), scope, receive, send).run()

    def r(method: str, path: str, handler: ContactHandler, summary: str, **kw: Any) -> Route:
        kw.setdefault("status", 202)
        return Route(
            method,
            BASE + path,
            contact(handler),
            summary,
            "Public Chat",
            cors=True,
            security=("webToken",),
            headers=("via-client-sessionid",),
            **kw,
        )

    http = [
        Route(
            "POST",
            ORG + "/webToken",
            web_token,
            "Get a web token for a customer, or renew one (same customer) with its Authorization",
            "Public Chat",
            security=(ANONYMOUS, "webToken"),
            cors=True,
            body=Empty,
            response=WebTokenResponse,
        ),
        Route(
            "POST",
            BASE + "/streaming/session",
            contact(open_session),
            "Open the customer's streaming session",
            "Public Chat",
            cors=True,
            body=Empty,
            response=PublicSessionInfo,
            security=("webToken",),
        ),
        r(
            "GET",
            "/streaming/events",
            poll,
            "Long-poll for the customer's events",
            response=EventBatch,
            query=EventQuery,
            status=200,
            long_poll=True,
        ),
        r(
            "GET",
            "/streaming/events/stream",
            stream,
            "The customer's events as Server-Sent Events",
            status=200,
            content_type="text/event-stream",
        ),
        r(
            "POST",
            "/messaging/chat",
            start_chat,
            "Start a chat",
            body=StartChat,
            response=ChatStarted,
            status=200,
        ),
        r("POST", "/messaging/sendText", send_text, "Send text as the customer", body=ContactText),
        r("POST", "/messaging/sendUrl", send_url, "Send a URL as the customer", body=ContactUrl),
        r(
            "POST",
            "/messaging/notification",
            notification,
            "The customer is composing",
            body=ContactNotification,
        ),
        r("POST", "/messaging/disconnect", disconnect, "End the chat", body=ContactDisconnect),
    ]
    ws_handler: Any = websocket  # WebSocket routes take the raw ASGI triple, not a Request
    ws = [Route("GET", BASE + "/streaming/ws", ws_handler, "The customer's events over a WebSocket", "Public Chat")]
    return http, ws

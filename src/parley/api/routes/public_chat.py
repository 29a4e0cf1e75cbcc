"""The customer side of web chat (contract 7). The web token is the only credential."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final

from parley.api.gate import ContactCall, ContactHandler, Gate
from parley.api.http import Request, Response, Route
from parley.api.idempotency import posted
from parley.api.openapi import ANONYMOUS
from parley.api.routes.common import ORG, json_body, long_poll, optional_json_body, refusal, sse
from parley.api.routes.engagement import transcript_answer
from parley.api.schemas import (
    ChatStarted,
    ContactDisconnect,
    ContactNotification,
    ContactText,
    ContactUrl,
    Empty,
    EventQuery,
    PublicSessionInfo,
    StartChat,
    Transcript,
    WebTokenResponse,
)
from parley.clock import iso
from parley.domain.events import contact_owner
from parley.domain.interactions import EntityType, MessageKind
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.ports import StreamSession
from parley.service.streaming import Streaming
from parley.service.webchat import WebChat
from parley.streaming.schema import EventBatch
from parley.streaming.websocket import WebSocketStream

BASE: Final = ORG + "/publicChat"


def routes(
    gate: Gate,
    streaming: Streaming,
    webchat: WebChat,
    messaging: Messaging,
    book: InteractionBook,
    engagement: Engagement,
) -> tuple[list[Route], list[Route]]:
    async def session_of(call: ContactCall) -> StreamSession:
        return await streaming.require(
            call.org_id, call.request.headers.get("via-client-sessionid"), contact_owner(call.contact_id)
        )

    async def web_token(request: Request) -> Response:
        org_id = request.path_params["orgId"]
        # With the Authorization of a valid web token this renews it for the same customer.
        renewing = gate.customers.contact_id(org_id, request.headers) if request.headers.get("authorization") else None
        token = await webchat.issue_token(org_id, renewing)
        return Response.json({"tokenId": token.token, "expirationTime": iso(token.expires_at)})

    async def open_session(call: ContactCall) -> Response:
        optional_json_body(call.request, Empty)
        session = await streaming.open_for_contact(call.org_id, call.contact_id)
        return Response.json(
            {
                "sessionId": session.session_id,
                "creationTime": iso(session.created_at),
                "inactivityDelay": session.inactivity_delay,
            }
        )

    async def poll(call: ContactCall) -> Response:
        return await long_poll(streaming, await session_of(call), call.request)

    async def stream(call: ContactCall) -> Response:
        return sse(streaming, await session_of(call), call.request)

    async def start_chat(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, StartChat)
        interaction = await webchat.start_chat(
            call.org_id, call.contact_id, body.contactName.strip(), body.contactEmail or "", body.contactData
        )
        return Response.json({"interactionId": interaction.interaction_id})

    async def post(call: ContactCall, kind: MessageKind, interaction_id: str, content: str) -> Response:
        message = await messaging.contact_post(
            call.org_id, call.contact_id, interaction_id, kind, content, call.idempotency
        )
        return posted(message)

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
        await messaging.contact_typing(call.org_id, call.contact_id, body.interactionId, body.expiresAfterSeconds)
        return Response(202)

    async def disconnect(call: ContactCall) -> Response:
        await session_of(call)
        body = json_body(call.request, ContactDisconnect)
        interaction = await book.get_for_contact(call.org_id, body.interactionId, call.contact_id)
        await engagement.end(interaction, EntityType.CONTACT, "contactDisconnected")
        return Response(202)

    async def transcript(call: ContactCall) -> Response:
        await session_of(call)
        interaction_id = call.request.path_params["interactionId"]
        interaction = await book.get_for_contact(call.org_id, interaction_id, call.contact_id)
        _, messages = await messaging.transcript(call.org_id, interaction.interaction_id)
        return transcript_answer(interaction, [m for m in messages if not m.is_whisper])  # whispers stay with agents

    async def authorize_ws(headers: dict[str, str], org_id: str) -> StreamSession:
        contact_id = gate.customers.contact_id(org_id, headers)
        return await streaming.require(org_id, headers.get("via-client-sessionid"), contact_owner(contact_id))

    async def websocket(scope: MutableMapping[str, Any], receive: Any, send: Any, params: dict[str, str]) -> None:
        await WebSocketStream(
            streaming, lambda h: authorize_ws(h, params["orgId"]), scope, receive, send, refusal
        ).run()

    def r(method: str, path: str, handler: ContactHandler, summary: str, **kw: Any) -> Route:
        kw.setdefault("status", 202)
        return Route(
            method,
            BASE + path,
            gate.customer(handler),
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
            gate.minting(web_token),
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
            gate.customer(open_session),
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
        r(
            "GET",
            "/interactions/{interactionId}/transcript",
            transcript,
            "The customer's chat so far (without supervisors' whispers), to catch up after a lost session",
            response=Transcript,
            status=200,
        ),
    ]
    ws_handler: Any = websocket  # WebSocket routes take the raw ASGI triple, not a Request
    ws = [Route("GET", BASE + "/streaming/ws", ws_handler, "The customer's events over a WebSocket", "Public Chat")]
    return http, ws

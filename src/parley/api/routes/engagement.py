"""Engagement center (contract 6): availability, offers, disconnect, monitor, transcript."""

from __future__ import annotations

from typing import Any

from parley.api.gate import AgentCall, Gate
from parley.api.http import Response, Route
from parley.api.routes.common import ORG, json_body, optional_json_body
from parley.api.schemas import Empty, NotReady, OfferAnswer, Ready, Transcript
from parley.clock import iso
from parley.domain.accounts import Scope, User
from parley.domain.errors import InvalidRequest
from parley.domain.events import user_owner
from parley.domain.interactions import Message, MessageKind
from parley.service.accounts import Accounts
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.streaming import Streaming

BASE = ORG + "/engagementCenter"
SCOPE = Scope.ENGAGEMENT_CENTER.value
HEADERS = ("x-api-key", "via-client-sessionid")


def transcript_entry(m: Message) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "messageId": m.message_id,
        "entityName": m.entity_name,
        "entityType": m.entity_type.value,
    }
    if m.user_id is not None:
        entry["userId"] = m.user_id
    entry["text" if m.kind is MessageKind.TEXT else "url"] = m.body
    entry["sentTime"] = iso(m.sent_at)
    return entry


def routes(
    gate: Gate,
    accounts: Accounts,
    streaming: Streaming,
    book: InteractionBook,
    engagement: Engagement,
    messaging: Messaging,
) -> list[Route]:
    async def path_user(call: AgentCall) -> User:
        org_id = call.principal.org_id
        user = await accounts.require_user(org_id, call.request.path_params["userId"])
        await streaming.require(org_id, call.request.headers.get("via-client-sessionid"), user_owner(user.user_id))
        return user

    async def session_user(call: AgentCall) -> User:
        """For interaction paths: the interaction must exist (404), then the session names the actor."""
        org_id = call.principal.org_id
        await book.get(org_id, call.request.path_params["interactionId"])
        session = await streaming.require(org_id, call.request.headers.get("via-client-sessionid"))
        if session.user_id is None:
            raise InvalidRequest.of("via-client-sessionid", "invalidSession", "this is not a user's session")
        return await accounts.require_user(org_id, session.user_id)

    async def ready(call: AgentCall) -> Response:
        user = await path_user(call)
        body = optional_json_body(call.request, Ready)
        await engagement.ready(user.org_id, user.user_id, body.maxConcurrent)
        return Response(202)

    async def not_ready(call: AgentCall) -> Response:
        user = await path_user(call)
        body = optional_json_body(call.request, NotReady)
        await engagement.not_ready(user.org_id, user.user_id, body.reasonId)
        return Response(202)

    async def accept(call: AgentCall) -> Response:
        user = await session_user(call)
        body = json_body(call.request, OfferAnswer)
        await engagement.accept(user, call.request.path_params["interactionId"], body.ehubSessionId)
        return Response(202)

    async def reject(call: AgentCall) -> Response:
        user = await session_user(call)
        body = json_body(call.request, OfferAnswer)
        await engagement.reject(user, call.request.path_params["interactionId"], body.ehubSessionId)
        return Response(202)

    async def disconnect(call: AgentCall) -> Response:
        user = await session_user(call)
        optional_json_body(call.request, Empty)
        await engagement.disconnect_user(user, call.request.path_params["interactionId"])
        return Response(202)

    async def monitor(call: AgentCall) -> Response:
        user = await session_user(call)
        optional_json_body(call.request, Empty)
        await engagement.monitor(user, call.request.path_params["interactionId"])
        return Response(202)

    async def transcript(call: AgentCall) -> Response:
        await session_user(call)
        interaction, messages = await messaging.transcript(
            call.principal.org_id, call.request.path_params["interactionId"]
        )
        return Response.json(
            {
                "interactionId": interaction.interaction_id,
                "channelType": interaction.channel_type.value,
                "messages": [transcript_entry(m) for m in messages],
            }
        )

    def r(method: str, path: str, handler: Any, summary: str, **kw: Any) -> Route:
        kw.setdefault("status", 202)
        return Route(
            method,
            BASE + path,
            gate.agent(SCOPE, handler),
            summary,
            "Engagement Center",
            security=("bearer",),
            headers=HEADERS,
            **kw,
        )

    i = "/interactions/{interactionId}"
    return [
        r("POST", "/users/{userId}/ready", ready, "Become available for offers", body=Ready),
        r("POST", "/users/{userId}/notReady", not_ready, "Stop receiving offers", body=NotReady),
        r("POST", i + "/accept", accept, "Accept an offered interaction", body=OfferAnswer),
        r("POST", i + "/reject", reject, "Reject an offered interaction", body=OfferAnswer),
        r("POST", i + "/disconnect", disconnect, "End an interaction (or stop monitoring it)", body=Empty),
        r("POST", i + "/monitor", monitor, "Join an interaction as a monitoring supervisor", body=Empty),
        r(
            "GET",
            i + "/transcript",
            transcript,
            "The interaction's messages in order",
            response=Transcript,
            status=200,
        ),
    ]

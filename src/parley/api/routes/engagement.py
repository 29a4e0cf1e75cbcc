"""Engagement center (contract 6): availability, offers, disconnect, monitor, transcript."""

from __future__ import annotations

from typing import Any

from parley.api.gate import AgentCall, Gate
from parley.api.http import Response, Route
from parley.api.routes.common import ORG, act_as, json_body, optional_json_body
from parley.api.schemas import (
    Empty,
    InteractionList,
    InteractionListQuery,
    InteractionRecord,
    NotReady,
    OfferAnswer,
    Ready,
    Transcript,
    Transfer,
    UserStateList,
    UserStateQuery,
)
from parley.api.validation import convert
from parley.clock import iso
from parley.domain.accounts import Scope, User
from parley.domain.errors import InvalidRequest
from parley.domain.events import user_owner
from parley.domain.interactions import Interaction, Message, MessageKind
from parley.service.accounts import Accounts
from parley.service.engagement import Engagement
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.overview import Overview, UserState
from parley.service.ports import InteractionQuery
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


def transcript_answer(interaction: Interaction, messages: list[Message]) -> Response:
    return Response.json(
        {
            "interactionId": interaction.interaction_id,
            "channelType": interaction.channel_type.value,
            "messages": [transcript_entry(m) for m in messages],
        }
    )


def interaction_record(i: Interaction) -> dict[str, Any]:
    record: dict[str, Any] = {
        "interactionId": i.interaction_id,
        "channelType": str(i.channel_type),
        "state": str(i.state),
        "contactName": i.contact_name,
        "contactAddress": i.contact_address,
        "userIds": i.everyone,
        "createdTime": iso(i.created_at),
    }
    if i.accepted_at is not None:
        record["acceptedTime"] = iso(i.accepted_at)
    if i.ended_at is not None:
        record["endedTime"] = iso(i.ended_at)
    return record


def user_state_record(s: UserState) -> dict[str, Any]:
    record: dict[str, Any] = {
        "userId": s.user.user_id,
        "preferredName": s.user.display_name,
        "state": "ready" if s.ready else "notReady",
        "since": iso(s.since),
        "maxConcurrent": s.max_concurrent,
        "load": s.load,
    }
    if not s.ready and s.reason_id:
        record["reasonId"] = s.reason_id
    return record


def routes(
    gate: Gate,
    accounts: Accounts,
    streaming: Streaming,
    book: InteractionBook,
    engagement: Engagement,
    messaging: Messaging,
    overview: Overview,
) -> list[Route]:
    async def path_user(call: AgentCall) -> User:
        org_id = call.principal.org_id
        act_as(call.principal, call.request.path_params["userId"])
        user = await accounts.require_user(org_id, call.request.path_params["userId"])
        await streaming.require(org_id, call.request.headers.get("via-client-sessionid"), user_owner(user.user_id))
        return user

    async def session_user(call: AgentCall) -> User:
        """For interaction paths: the interaction must exist (404), then the session names the actor."""
        await book.get(call.principal.org_id, call.request.path_params["interactionId"])
        return await session_owner(call)

    async def session_owner(call: AgentCall) -> User:
        org_id = call.principal.org_id
        session = await streaming.require(org_id, call.request.headers.get("via-client-sessionid"))
        if session.user_id is None:
            raise InvalidRequest.of("via-client-sessionid", "invalidSession", "this is not a user's session")
        act_as(call.principal, session.user_id)
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
        return transcript_answer(interaction, messages)

    async def list_interactions(call: AgentCall) -> Response:
        user = await session_owner(call)
        q = convert(dict(call.request.query), InteractionListQuery)
        query = InteractionQuery(user.org_id, q.state, q.userId, q.channelType, q.maxResults, q.continuationToken)
        page = await overview.interactions(user, query)
        body: dict[str, Any] = {
            "totalItems": page.total,
            "interactions": [interaction_record(i) for i in page.interactions],
        }
        if page.continuation_token:
            body["continuationToken"] = page.continuation_token
        return Response.json(body)

    async def get_interaction(call: AgentCall) -> Response:
        user = await session_user(call)
        interaction = await overview.interaction(user, call.request.path_params["interactionId"])
        return Response.json(interaction_record(interaction))

    async def list_users(call: AgentCall) -> Response:
        user = await session_owner(call)
        q = convert(dict(call.request.query), UserStateQuery)
        found = await overview.users(user, None if q.state is None else q.state == "ready")
        return Response.json({"users": [user_state_record(s) for s in found]})

    async def transfer(call: AgentCall) -> Response:
        user = await session_user(call)
        body = optional_json_body(call.request, Transfer)
        if body.userId is not None:
            await accounts.require_user(user.org_id, body.userId)
        await engagement.transfer(user, call.request.path_params["interactionId"], body.userId)
        return Response(202)

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
            "POST",
            i + "/transfer",
            transfer,
            "Hand an active interaction to a ready user, or back to the front of the queue",
            body=Transfer,
        ),
        r(
            "GET",
            "/interactions",
            list_interactions,
            "List interactions (an agent sees only those it is or was in)",
            response=InteractionList,
            query=InteractionListQuery,
            status=200,
        ),
        r("GET", i, get_interaction, "One interaction", response=InteractionRecord, status=200),
        r(
            "GET",
            "/users",
            list_users,
            "Users' availability and load (supervisors)",
            response=UserStateList,
            query=UserStateQuery,
            status=200,
        ),
        r(
            "GET",
            i + "/transcript",
            transcript,
            "The interaction's messages in order",
            response=Transcript,
            status=200,
        ),
    ]

"""Streaming sessions for users (contract 4): create, long-poll, acknowledge, delete, SSE, WebSocket."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, Final

from parley.api.gate import AgentCall, Gate
from parley.api.http import Response, Route
from parley.api.routes.common import ORG, act_as, json_body, long_poll, refusal, sse
from parley.api.schemas import Acknowledge, CreateSession, EventQuery, SessionInfo
from parley.clock import iso
from parley.domain.accounts import Scope
from parley.domain.errors import InvalidRequest
from parley.service.accounts import Accounts
from parley.service.ports import StreamSession
from parley.service.streaming import Streaming
from parley.streaming.schema import EventBatch
from parley.streaming.websocket import WebSocketStream

BASE: Final = ORG + "/streaming"
SCOPE: Final = Scope.STREAMING.value


def session_info(session: StreamSession) -> dict[str, Any]:
    return {
        "sessionId": session.session_id,
        "creationTime": iso(session.created_at),
        "inactivityDelay": session.inactivity_delay,
        "requireAcknowledgement": session.require_ack,
        "userId": session.user_id,
    }


def routes(gate: Gate, accounts: Accounts, streaming: Streaming) -> tuple[list[Route], list[Route]]:
    async def session_of(call: AgentCall) -> StreamSession:
        session = await streaming.require_user_session(
            call.principal.org_id, call.request.headers.get("via-client-sessionid")
        )
        act_as(call.principal, session.user_id)
        return session

    async def create(call: AgentCall) -> Response:
        body = json_body(call.request, CreateSession)
        act_as(call.principal, body.userId)
        await accounts.require_user(call.principal.org_id, body.userId)
        session = await streaming.open_for_user(
            call.principal.org_id, body.userId, body.inactivityDelay, body.requireAcknowledgement
        )
        return Response.json(session_info(session))

    async def delete(call: AgentCall) -> Response:
        await streaming.close(await session_of(call))
        return Response(204)

    async def poll(call: AgentCall) -> Response:
        return await long_poll(streaming, await session_of(call), call.request)

    async def acknowledge(call: AgentCall) -> Response:
        session = await session_of(call)
        body = json_body(call.request, Acknowledge)
        if not session.require_ack:
            raise InvalidRequest.of(
                "sequenceNumber",
                "acknowledgementNotRequired",
                "this session was created without requireAcknowledgement",
            )
        await streaming.acknowledge(session, body.sequenceNumber)
        return Response(204)

    async def stream(call: AgentCall) -> Response:
        return sse(streaming, await session_of(call), call.request)

    async def authorize_ws(headers: dict[str, str], org_id: str) -> StreamSession:
        principal = await gate.agents.principal(org_id, headers, SCOPE)
        session = await streaming.require_user_session(org_id, headers.get("via-client-sessionid"))
        act_as(principal, session.user_id)
        return session

    async def websocket(scope: MutableMapping[str, Any], receive: Any, send: Any, params: dict[str, str]) -> None:
        await WebSocketStream(
            streaming, lambda h: authorize_ws(h, params["orgId"]), scope, receive, send, refusal
        ).run()

    headers = ("x-api-key", "via-client-sessionid")
    http = [
        Route(
            "POST",
            BASE + "/session",
            gate.agent(SCOPE, create),
            "Create a streaming session",
            "Streaming",
            body=CreateSession,
            response=SessionInfo,
            security=("bearer",),
            headers=("x-api-key",),
        ),
        Route(
            "DELETE",
            BASE + "/session",
            gate.agent(SCOPE, delete),
            "End a streaming session",
            "Streaming",
            status=204,
            security=("bearer",),
            headers=headers,
        ),
        Route(
            "GET",
            BASE + "/events",
            gate.agent(SCOPE, poll),
            "Long-poll for events",
            "Streaming",
            response=EventBatch,
            query=EventQuery,
            security=("bearer",),
            headers=headers,
            long_poll=True,
        ),
        Route(
            "POST",
            BASE + "/acknowledge",
            gate.agent(SCOPE, acknowledge),
            "Acknowledge events up to a sequence number",
            "Streaming",
            body=Acknowledge,
            status=204,
            security=("bearer",),
            headers=headers,
        ),
        Route(
            "GET",
            BASE + "/events/stream",
            gate.agent(SCOPE, stream),
            "Events as Server-Sent Events",
            "Streaming",
            security=("bearer",),
            headers=headers,
            content_type="text/event-stream",
        ),
    ]
    ws = [Route("GET", BASE + "/ws", websocket, "Events over a WebSocket", "Streaming")]  # type: ignore[arg-type]
    return http, ws

"""The seed's three endpoints (contract 3): the hot path, so each step is one direct call."""

from __future__ import annotations

from typing import Final

from parley.api.gate import AgentCall, Gate
from parley.api.http import Handler, Response, Route
from parley.api.idempotency import posted
from parley.api.routes.common import ORG, act_as, json_body
from parley.api.schemas import NotificationParms, SendTextParms, SendUrlParms
from parley.domain.accounts import Scope
from parley.domain.events import user_owner
from parley.domain.interactions import ENTITY_TYPE_OF, MessageKind
from parley.service.accounts import Accounts
from parley.service.messaging import Messaging, Post
from parley.service.streaming import Streaming

BASE: Final = ORG + "/messaging/users/{userId}"
HEADERS: Final = ("x-api-key", "via-client-sessionid")
ERRORS: Final = (400, 401, 404, 405, 410, 413, 415, 422, 429, 500, 503)


def routes(gate: Gate, accounts: Accounts, streaming: Streaming, messaging: Messaging) -> list[Route]:
    async def acting_user(call: AgentCall) -> str:
        """Check order of contract 2: the path's user (404), then its streaming session (400)."""
        user_id = call.request.path_params["userId"]
        act_as(call.principal, user_id)
        await accounts.require_user(call.principal.org_id, user_id)
        await streaming.require(
            call.principal.org_id, call.request.headers.get("via-client-sessionid"), user_owner(user_id)
        )
        return user_id

    async def post(call: AgentCall, kind: MessageKind, body: SendTextParms | SendUrlParms) -> Response:
        user_id = call.request.path_params["userId"]
        content = body.text if isinstance(body, SendTextParms) else body.url
        message = await messaging.user_post(
            call.principal.org_id,
            user_id,
            Post(body.interactionId, kind, content, ENTITY_TYPE_OF[body.entityType], body.entityName),
            call.idempotency,
        )
        return posted(message)

    async def send_text(call: AgentCall) -> Response:
        await acting_user(call)
        return await post(call, MessageKind.TEXT, json_body(call.request, SendTextParms))

    async def send_url(call: AgentCall) -> Response:
        await acting_user(call)
        return await post(call, MessageKind.URL, json_body(call.request, SendUrlParms))

    async def notification(call: AgentCall) -> Response:
        user_id = await acting_user(call)
        body = json_body(call.request, NotificationParms)
        await messaging.user_typing(
            call.principal.org_id,
            user_id,
            body.interactionId,
            ENTITY_TYPE_OF[body.entityType],
            body.entityName,
            body.expiresAfterSeconds,
        )
        return Response(202)

    scope = str(Scope.MESSAGING)

    def route(path: str, handler: Handler, summary: str, body: type) -> Route:
        return Route(
            "POST",
            BASE + path,
            handler,
            summary,
            "Messaging",
            body=body,
            status=202,
            security=("bearer",),
            headers=HEADERS,
            error_statuses=ERRORS,
        )

    return [
        route("/sendText", gate.agent(scope, send_text), "User Send Text: send text on an interaction", SendTextParms),
        route(
            "/notification",
            gate.agent(scope, notification, typing=True),
            "User Send Notification state: the user is composing",
            NotificationParms,
        ),
        route("/sendUrl", gate.agent(scope, send_url), "User Push Url: send a URL on an interaction", SendUrlParms),
    ]

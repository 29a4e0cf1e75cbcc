"""The seed's three endpoints (contract 3): the hot path, so each step is one direct call."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from parley.api.gate import AgentCall
from parley.api.http import Response, Route
from parley.api.routes.common import ORG, json_body
from parley.api.schemas import NotificationParms, SendTextParms, SendUrlParms
from parley.domain.accounts import Scope
from parley.domain.events import user_owner
from parley.domain.interactions import ENTITY_TYPE_OF, MessageKind
from parley.service.messaging import Post

if TYPE_CHECKING:
    from parley.bootstrap import Parley

BASE: Final = ORG + "/messaging/users/{userId}"
HEADERS: Final = ("x-api-key", "via-client-sessionid")
ERRORS: Final = (400, 401, 404, 405, 410, 413, 415, 422, 429, 500, 503)


def routes(p: Parley) -> list[Route]:
    async def acting_user(call: AgentCall) -> str:
        """Check order of contract 2: the path's user (404), then its streaming session (400)."""
        user_id = call.request.path_params["userId"]
        await p.accounts.require_user(call.principal.org_id, user_id)
        await p.streaming.require(
            call.principal.org_id, call.request.headers.get("via-client-sessionid"), user_owner(user_id)
        )
        return user_id

    async def post(call: AgentCall, kind: MessageKind, body: SendTextParms | SendUrlParms) -> Response:
        user_id = call.request.path_params["userId"]
        content = body.text if isinstance(body, SendTextParms) else body.url
        message = await p.messaging.user_post(
            call.principal.org_id,
            user_id,
            Post(body.interactionId, kind, content, ENTITY_TYPE_OF[body.entityType], body.entityName),
            call.idempotency,
        )
        return Response(202, b"", [("x-message-id", message.message_id)])

    async def send_text(call: AgentCall) -> Response:
        await acting_user(call)
        return await post(call, MessageKind.TEXT, json_body(call.request, SendTextParms))

    async def send_url(call: AgentCall) -> Response:
        await acting_user(call)
        return await post(call, MessageKind.URL, json_body(call.request, SendUrlParms))

    async def notification(call: AgentCall) -> Response:
        user_id = await acting_user(call)
        body = json_body(call.request, NotificationParms)
        await p.messaging.user_typing(
            call.principal.org_id,
            user_id,
            body.interactionId,
            ENTITY_TYPE_OF[body.entityType],
            body.entityName,
            body.expiresAfterSeconds,
        )
        return Response(202)

    scope = str(Scope.MESSAGING)
    common = {
        "tag": "Messaging",
        "status": 202,
        "security": ("bearer",),
        "headers": HEADERS,
        "error_statuses": ERRORS,
    }
    return [
        Route(
            "POST",
            BASE + "/sendText",
            p.gate.agent(scope, send_text),
            "User Send Text: send text on an interaction",
            body=SendTextParms,
            **common,  # type: ignore[arg-type]
        ),
        Route(
            "POST",
            BASE + "/notification",
            p.gate.agent(scope, notification, typing=True),
            "User Send Notification state: the user is composing",
            body=NotificationParms,
            **common,  # type: ignore[arg-type]
        ),
        Route(
            "POST",
            BASE + "/sendUrl",
            p.gate.agent(scope, send_url),
            "User Push Url: send a URL on an interaction",
            body=SendUrlParms,
            **common,  # type: ignore[arg-type]
        ),
    ]

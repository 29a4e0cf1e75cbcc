"""SMS: the gateway's webhooks (Kannel's ``get-url`` and ``dlr-url``) and the segment preview.

The webhooks are Kannel's, not the public API's: they are authenticated by the shared secret
in their query (``PARLEY_SMS_WEBHOOK_SECRET``), answer 200 to a repeat of what was already
taken, and use the contract's error body for everything they refuse.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from parley.api.gate import AgentCall, Gate
from parley.api.http import Request, Response, Route
from parley.api.routes.common import ORG, json_body
from parley.domain.accounts import Scope
from parley.domain.interactions import CHAT_TEXT_LIMIT
from parley.domain.sms import plan_sms
from parley.service.ports import SmsWebhooks
from parley.service.sms import SmsChannel
from parley.settings import SMS_WEBHOOK_PATH


class SmsPreviewParms(Struct):
    # Empty is allowed (a desktop previews as the agent types); the bound only limits work.
    text: Annotated[str, Meta(max_length=16 * CHAT_TEXT_LIMIT)]


class SmsPreview(Struct):
    encoding: str
    segments: int
    characters: int
    charactersForcingUcs2: list[str]


def routes(gate: Gate, sms: SmsChannel | None, webhooks: SmsWebhooks | None) -> list[Route]:
    """``sms`` is None when no gateway is configured: only the preview is served."""

    async def preview(call: AgentCall) -> Response:
        plan = plan_sms(json_body(call.request, SmsPreviewParms).text)
        return Response.json(
            SmsPreview(plan.encoding.value, plan.segment_count, plan.characters, plan.characters_forcing_ucs2)
        )

    found = [
        Route(
            "POST",
            ORG + "/messaging/sms/preview",
            gate.agent(Scope.MESSAGING.value, preview),
            "SMS preview: the encoding and segment count a text would take as SMS",
            "Messaging",
            body=SmsPreviewParms,
            response=SmsPreview,
            security=("bearer",),
            headers=("x-api-key",),
            error_statuses=(400, 401, 405, 413, 415, 429, 500),
        )
    ]
    if sms is None or webhooks is None:
        return found

    def query(request: Request) -> str:
        # Kannel encodes the text in the charset it names, not necessarily UTF-8.
        return request.raw_query.decode("latin-1")

    async def mo(request: Request) -> Response:
        await sms.receive(webhooks.inbound(query(request)))
        return Response(200, b"", [("content-type", "text/plain")])

    async def dlr(request: Request) -> Response:
        await sms.report(webhooks.report(query(request)))
        return Response(200, b"", [("content-type", "text/plain")])

    webhook = "SMS gateway webhook"
    return [
        *found,
        Route("GET", SMS_WEBHOOK_PATH + webhooks.inbound_path, mo, "An SMS from a handset", webhook, hidden=True),
        Route("GET", SMS_WEBHOOK_PATH + webhooks.report_path, dlr, "A delivery report", webhook, hidden=True),
    ]

"""Outbound webhooks: subscriptions, their deliveries and manual retries (contract 14)."""

from __future__ import annotations

from typing import Any

from parley.api.gate import AgentCall, AgentHandler, Gate
from parley.api.http import Response, Route
from parley.api.routes.common import ORG, json_body
from parley.api.schemas import (
    CreateWebhook,
    DeliveryList,
    DeliveryQuery,
    DeliveryRecord,
    WebhookList,
    WebhookRecord,
    WebhookWithSecret,
)
from parley.api.validation import convert
from parley.clock import iso
from parley.domain.accounts import Scope
from parley.domain.webhooks import DELIVERY_STATUS_OF, Delivery, DeliveryStatus, Webhook
from parley.service.webhooks import Webhooks

PATH = ORG + "/webhooks"
ONE = PATH + "/{webhookId}"
SCOPE = Scope.PROVISIONING.value


def webhook_record(w: Webhook) -> WebhookRecord:
    return WebhookRecord(w.webhook_id, w.url, list(w.event_types), iso(w.created_at), w.description)


def with_secret(w: Webhook) -> WebhookWithSecret:
    return WebhookWithSecret(w.webhook_id, w.url, list(w.event_types), w.secret, iso(w.created_at), w.description)


def delivery_record(d: Delivery) -> DeliveryRecord:
    pending = d.status is DeliveryStatus.PENDING
    return DeliveryRecord(
        d.delivery_id,
        d.event_id,
        d.event_type,
        d.status.value,
        d.attempts,
        iso(d.created_at),
        iso(d.updated_at),
        iso(d.next_attempt_at) if pending and d.next_attempt_at is not None else None,
        d.last_status_code,
        d.last_error or None,
    )


def routes(gate: Gate, webhooks: Webhooks) -> list[Route]:
    async def create(call: AgentCall) -> Response:
        body = json_body(call.request, CreateWebhook)
        created = await webhooks.create(call.principal.org_id, body.url, body.eventTypes, body.description)
        return Response.json(with_secret(created), 201)

    async def list_all(call: AgentCall) -> Response:
        found = await webhooks.of_org(call.principal.org_id)
        return Response.json(WebhookList([webhook_record(w) for w in found]))

    async def get_one(call: AgentCall) -> Response:
        found = await webhooks.get(call.principal.org_id, call.request.path_params["webhookId"])
        return Response.json(webhook_record(found))

    async def delete(call: AgentCall) -> Response:
        await webhooks.delete(call.principal.org_id, call.request.path_params["webhookId"])
        return Response.empty(204)

    async def rotate(call: AgentCall) -> Response:
        rotated = await webhooks.rotate_secret(call.principal.org_id, call.request.path_params["webhookId"])
        return Response.json(with_secret(rotated))

    async def deliveries(call: AgentCall) -> Response:
        query = convert(dict(call.request.query), DeliveryQuery)
        status = None if query.status is None else DELIVERY_STATUS_OF[query.status]
        params = call.request.path_params
        found = await webhooks.deliveries(call.principal.org_id, params["webhookId"], status, query.maxResults)
        return Response.json(DeliveryList([delivery_record(d) for d in found]))

    async def retry(call: AgentCall) -> Response:
        params = call.request.path_params
        await webhooks.retry(call.principal.org_id, params["webhookId"], params["deliveryId"])
        return Response.empty(202)

    def route(method: str, path: str, handler: AgentHandler, summary: str, **doc: Any) -> Route:
        return Route(
            method,
            path,
            gate.agent(SCOPE, handler),
            summary,
            "Webhooks",
            security=("bearer",),
            headers=("x-api-key",),
            **doc,
        )

    return [
        route("POST", PATH, create, "Subscribe a webhook", body=CreateWebhook, response=WebhookWithSecret, status=201),
        route("GET", PATH, list_all, "List the organization's webhooks", response=WebhookList),
        route("GET", ONE, get_one, "Get a webhook", response=WebhookRecord),
        route("DELETE", ONE, delete, "Delete a webhook and its deliveries", status=204),
        route("POST", ONE + "/rotateSecret", rotate, "Rotate a webhook's secret", response=WebhookWithSecret),
        route(
            "GET",
            ONE + "/deliveries",
            deliveries,
            "List a webhook's deliveries",
            response=DeliveryList,
            query=DeliveryQuery,
        ),
        route("POST", ONE + "/deliveries/{deliveryId}/retry", retry, "Send a delivery again", status=202),
    ]

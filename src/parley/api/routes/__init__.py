"""Every route of the API, in one list per protocol; each routes module is given what it uses."""

from __future__ import annotations

import msgspec

from parley.api.gate import Gate
from parley.api.http import Router
from parley.api.openapi import build_openapi
from parley.api.routes import console as console_routes
from parley.api.routes import docs as docs_routes
from parley.api.routes import engagement as engagement_routes
from parley.api.routes import messaging as messaging_routes
from parley.api.routes import metrics as metrics_routes
from parley.api.routes import pages as page_routes
from parley.api.routes import provisioning as provisioning_routes
from parley.api.routes import public_chat as public_chat_routes
from parley.api.routes import sms as sms_routes
from parley.api.routes import streaming as streaming_routes
from parley.api.routes import tokens as tokens_routes
from parley.api.routes import webhooks as webhooks_routes
from parley.service.accounts import Accounts
from parley.service.counters import COUNTS
from parley.service.engagement import Engagement
from parley.service.health import Health
from parley.service.interactions import InteractionBook
from parley.service.messaging import Messaging
from parley.service.overview import Overview
from parley.service.ports import SmsWebhooks
from parley.service.signin import SignIn
from parley.service.sms import SmsChannel
from parley.service.streaming import Streaming
from parley.service.tokens import TokenService
from parley.service.webchat import WebChat
from parley.service.webhooks import Webhooks


def build_routers(
    *,
    gate: Gate,
    tokens: TokenService,
    accounts: Accounts,
    book: InteractionBook,
    engagement: Engagement,
    messaging: Messaging,
    streaming: Streaming,
    webchat: WebChat,
    sms: SmsChannel | None,
    sms_webhooks: SmsWebhooks | None,
    health: Health,
    overview: Overview,
    signin: SignIn,
    metrics: metrics_routes.MetricsEndpoint | None,
    webhooks: Webhooks,
) -> tuple[Router, Router]:
    stream_http, stream_ws = streaming_routes.routes(gate, accounts, streaming)
    public_http, public_ws = public_chat_routes.routes(gate, streaming, webchat, messaging, book, engagement)
    http = [
        *tokens_routes.routes(tokens),
        *messaging_routes.routes(gate, accounts, streaming, messaging),
        *stream_http,
        *engagement_routes.routes(gate, accounts, streaming, book, engagement, messaging, overview),
        *public_http,
        *provisioning_routes.routes(gate, accounts),
        *sms_routes.routes(gate, sms, sms_webhooks),
        *console_routes.routes(signin),
        *webhooks_routes.routes(gate, webhooks),
    ]
    ws = [*stream_ws, *public_ws]
    openapi = msgspec.json.encode(build_openapi(http, ws))
    router, ws_router = Router(), Router()
    meta = docs_routes.routes(openapi, health)
    if metrics is not None:
        meta += metrics_routes.routes(COUNTS, metrics)
    pages = [*page_routes.static_routes(), *page_routes.demo_routes(), *page_routes.console_routes()]
    for route in [*http, *meta, *pages]:
        router.add(route)
    for route in ws:
        ws_router.add(route)
    return router, ws_router

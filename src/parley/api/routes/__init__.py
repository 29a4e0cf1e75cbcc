"""Every route of the API, in one list per protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from parley.api.http import Router
from parley.api.openapi import build_openapi
from parley.api.routes import docs, engagement, messaging, provisioning, public_chat, sms, streaming, tokens
from parley.web import pages, static_routes

if TYPE_CHECKING:
    from parley.bootstrap import Parley


def build_routers(p: Parley) -> tuple[Router, Router]:
    stream_http, stream_ws = streaming.routes(p)
    public_http, public_ws = public_chat.routes(p)
    http = [
        *tokens.routes(p),
        *messaging.routes(p),
        *stream_http,
        *engagement.routes(p),
        *public_http,
        *provisioning.routes(p),
        *sms.routes(p),
    ]
    ws = [*stream_ws, *public_ws]
    openapi = msgspec.json.encode(build_openapi(http, ws))
    router, ws_router = Router(), Router()
    for route in [*http, *docs.routes(p, openapi), *static_routes(), *pages.routes()]:
        router.add(route)
    for route in ws:
        ws_router.add(route)
    return router, ws_router

"""The OpenAPI document, a readable docs page, liveness and readiness."""

from __future__ import annotations

from parley.api.http import Request, Response, Route
from parley.service.health import Health
from parley.web.pages import PAGE_HEADERS

# Swagger UI, vendored from npm (scripts/vendor-swagger-ui.sh), under the pages' strict CSP.
DOCS_PAGE = b"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Parley API</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/swagger-ui.css"><link rel="stylesheet" href="/static/docs.css"></head>
<body><main id="docs"><h1>Parley API</h1><p>Loading the OpenAPI document&hellip;</p></main>
<script src="/static/swagger-ui-bundle.js" defer></script><script src="/static/docs.js" defer></script></body></html>"""


def routes(openapi: bytes, health: Health) -> list[Route]:
    async def openapi_json(request: Request) -> Response:
        return Response(200, openapi, [("content-type", "application/json"), ("cache-control", "no-cache")])

    async def docs(request: Request) -> Response:
        return Response(200, DOCS_PAGE, list(PAGE_HEADERS))

    async def alive(request: Request) -> Response:
        return Response.json({"status": "ok"})

    async def ready(request: Request) -> Response:
        readiness = await health.readiness()
        body = {"status": readiness.status, "checks": readiness.checks}
        if readiness.ready:
            return Response.json(body)
        return Response.json(body, 503, [("retry-after", "1")])

    return [
        Route("GET", "/openapi.json", openapi_json, "This OpenAPI document", "Meta", hidden=True),
        Route("GET", "/docs", docs, "Readable API documentation", "Meta", hidden=True),
        Route("GET", "/healthz", alive, "Liveness: the process answers (no dependency asked)", "Meta", hidden=True),
        Route("GET", "/readyz", ready, "Readiness: storage and the event engine answer", "Meta", hidden=True),
    ]

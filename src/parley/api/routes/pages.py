"""The web pages and their assets (``parley.web``) as routes: the demo page, the console and ``/static``."""

from __future__ import annotations

from parley.api.http import Request, Response, Route
from parley.domain.accounts import ORG_ID_PATTERN
from parley.domain.errors import InvalidRequest
from parley.web import CACHE_CONTROL, SECURITY_HEADERS, load_static
from parley.web.console import CONSOLE_PAGE
from parley.web.pages import DEFAULT_ORG, PAGE_HEADERS, render_demo


def static_routes() -> list[Route]:
    files = load_static()

    async def serve(request: Request) -> Response:
        found = files.get(request.path_params["name"])
        if found is None:
            return Response.json(
                {
                    "code": 404,
                    "message": "not found",
                    "errors": [{"scope": "path", "reason": "notFound", "message": "no such file"}],
                },
                404,
            )
        data, kind, etag = found
        headers = [
            ("content-type", kind),
            ("cache-control", CACHE_CONTROL),
            ("etag", etag),
            *SECURITY_HEADERS,
        ]
        if request.headers.get("if-none-match") == etag:
            return Response(304, b"", headers)
        return Response(200, data, headers)

    return [Route("GET", "/static/{name}", serve, "Static assets", "Meta", hidden=True)]


def demo_routes() -> list[Route]:
    async def demo(request: Request) -> Response:
        org_id = request.query.get("org") or DEFAULT_ORG
        if not ORG_ID_PATTERN.match(org_id):
            raise InvalidRequest.of("org", "invalidValue", "org must be an organization id")
        return Response(200, render_demo(org_id), list(PAGE_HEADERS))

    return [Route("GET", "/demo", demo, "A demo page with the web chat widget", "Meta", hidden=True)]


def console_routes() -> list[Route]:
    async def console(request: Request) -> Response:
        return Response(200, CONSOLE_PAGE, list(PAGE_HEADERS))

    return [Route("GET", "/console", console, "The console for agents and supervisors", "Meta", hidden=True)]

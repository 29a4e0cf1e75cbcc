"""OpenAPI 3.1, generated from the routes and their msgspec types."""

from __future__ import annotations

from typing import Any

import msgspec

from parley import __version__
from parley.api.http import Route
from parley.api.schemas import ErrorResponse

REF_TEMPLATE = "#/components/schemas/{name}"
STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    410: "Gone",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
DEFAULT_ERRORS = (400, 401, 404, 405, 413, 415, 422, 429, 500)
ANONYMOUS = "anonymous"  # in Route.security: the endpoint may also be called without credentials
HEADER_DOCS = {
    "x-api-key": "API key of the organization; rate limits are counted per key",
    "via-client-sessionid": "The caller's streaming session",
}


def build_openapi(routes: list[Route], ws_routes: list[Route]) -> dict[str, Any]:
    types: list[Any] = [ErrorResponse]
    for r in routes:
        types.extend(t for t in (r.body, r.response, r.query) if t is not None)
    schemas_list, components = msgspec.json.schema_components(types, ref_template=REF_TEMPLATE)
    schema_of = dict(zip(types, schemas_list, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for r in routes:
        if r.hidden:
            continue
        paths.setdefault(r.path, {})[r.method.lower()] = _operation(r, schema_of)
    for r in ws_routes:
        paths.setdefault(r.path, {})["get"] = {
            "summary": r.summary,
            "tags": [r.tag],
            "description": "WebSocket upgrade. One JSON event envelope per text frame. Authenticate with the "
            "usual headers on the upgrade request, or send them as the first frame "
            '`{"authorization", "x-api-key", "via-client-sessionid"}` within 5 s. '
            'Client frames: `{"resumeAfter": N}`, `{"acknowledge": N}`. Close codes 4401 / 4400 on refusal.',
            "parameters": _path_parameters(r),
            "responses": {"101": {"description": "Switching Protocols"}},
        }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Parley: Alvaria Public Cloud Messaging (Chat/SMS) REST API v2.0.1",
            "version": __version__,
            "description": "Chat and SMS messaging for contact centers. The three messaging endpoints follow "
            "the Alvaria Messaging API v2.0.1; see docs/ for the whole contract.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Access token from the token service",
                },
                "basic": {"type": "http", "scheme": "basic", "description": "client_id:client_secret"},
                "webToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "tokenId from POST /webToken",
                },
            },
        },
    }


def _path_parameters(r: Route) -> list[dict[str, Any]]:
    return [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in _path_params(r.path)
    ]


def _operation(r: Route, schema_of: dict[Any, Any]) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": r.summary, "tags": [r.tag], "operationId": _operation_id(r)}
    params = _path_parameters(r)
    params += [
        {
            "name": h,
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": HEADER_DOCS.get(h, ""),
        }
        for h in r.headers
    ]
    if r.method == "POST":
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string"},
                "description": "Retries with the same key within 24 h return the first answer",
            }
        )
    if r.query is not None:
        for f in msgspec.structs.fields(r.query):
            params.append(
                {
                    "name": f.encode_name,
                    "in": "query",
                    "required": f.required,
                    "schema": msgspec.json.schema(f.type),
                }
            )
    if params:
        op["parameters"] = params
    if r.security:
        # OpenAPI spells "no credentials needed" as an empty requirement.
        op["security"] = [{} if name == ANONYMOUS else {name: []} for name in r.security]
    if r.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {
                r.content_type
                if r.method == "POST" and r.content_type != "text/event-stream"
                else "application/json": {"schema": schema_of[r.body]}
            },
        }
    success: dict[str, Any] = {"description": STATUS_TEXT.get(r.status, "OK")}
    if r.response is not None:
        success["content"] = {"application/json": {"schema": schema_of[r.response]}}
    elif r.content_type == "text/event-stream":
        success["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
    responses: dict[str, Any] = {str(r.status): success}
    for status in r.error_statuses or DEFAULT_ERRORS:
        responses[str(status)] = {
            "description": STATUS_TEXT[status],
            "content": {"application/json": {"schema": schema_of[ErrorResponse]}},
        }
    op["responses"] = responses
    return op


def _path_params(path: str) -> list[str]:
    return [seg[1:-1] for seg in path.split("/") if seg.startswith("{") and seg.endswith("}")]


def _operation_id(r: Route) -> str:
    words = [
        seg
        for seg in r.path.split("/")
        if seg and not seg.startswith("{") and seg not in ("via", "v2", "organizations")
    ]
    last = r.path.rsplit("/", 1)[-1]
    if last.startswith("{"):  # one item of a collection: unique beside the collection's own operation
        words += ["by", last.strip("{}")]
    return r.method.lower() + "".join(w[:1].upper() + w[1:] for w in words)

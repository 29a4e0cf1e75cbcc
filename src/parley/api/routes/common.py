"""Small helpers the route modules share."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from parley.api.errors import UnsupportedMediaType
from parley.api.http import Request
from parley.api.validation import decode_body

T = TypeVar("T", bound=msgspec.Struct)

ORG = "/via/v2/organizations/{orgId}"


def json_body(request: Request, schema: type[T]) -> T:
    """The body as ``schema``: 400 if empty or invalid, 415 if it is not JSON."""
    if request.body.strip() and request.content_type != "application/json":
        raise UnsupportedMediaType.of(
            "content-type", "unsupportedMediaType", "send the body as Content-Type: application/json"
        )
    return decode_body(request.body, schema)


def optional_json_body(request: Request, schema: type[T]) -> T:
    """Like json_body, but an empty body means every field takes its default."""
    if not request.body.strip():
        return decode_body(b"{}", schema)
    return json_body(request, schema)

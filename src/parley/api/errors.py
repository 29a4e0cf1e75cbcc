"""The one error table and the one renderer of the contract's error body (contract section 2)."""

from __future__ import annotations

import logging
from typing import Final

from parley.api.http import Response
from parley.domain.errors import (
    AlreadyExists,
    Gone,
    InvalidRequest,
    NotFound,
    ParleyError,
    Problem,
    RateLimited,
    RuleViolation,
    Unauthenticated,
    Unavailable,
)

log: Final = logging.getLogger("parley.api")


class MethodNotAllowed(ParleyError):
    """Method not allowed (405)."""


class RequestTimeout(ParleyError):
    """Request timeout (408)."""


class PayloadTooLarge(ParleyError):
    """Payload too large (413)."""


class UnsupportedMediaType(ParleyError):
    """Unsupported media type (415)."""


STATUS_OF: Final[dict[type[ParleyError], int]] = {
    InvalidRequest: 400,
    Unauthenticated: 401,
    NotFound: 404,
    MethodNotAllowed: 405,
    RequestTimeout: 408,
    Gone: 410,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    RuleViolation: 422,
    AlreadyExists: 422,
    RateLimited: 429,
    Unavailable: 503,
}

MESSAGES: Final[dict[int, str]] = {
    400: "bad request",
    401: "unauthorized",
    404: "not found",
    405: "method not allowed",
    408: "request timeout",
    410: "gone",
    413: "payload too large",
    415: "unsupported media type",
    422: "unprocessable entity",
    429: "too many requests",
    500: "internal server error",
    503: "service unavailable",
}


def status_of(error: ParleyError) -> int:
    for cls in type(error).__mro__:
        status = STATUS_OF.get(cls)
        if status is not None:
            return status
    return 500


def error_body(status: int, problems: tuple[Problem, ...]) -> dict[str, object]:
    return {
        "code": status,
        "message": MESSAGES.get(status, "error"),
        "errors": [{"scope": p.scope, "reason": p.reason, "message": p.message} for p in problems],
    }


def render_error(error: ParleyError, headers: list[tuple[str, str]] | None = None) -> Response:
    status = status_of(error)
    h = list(headers or [])
    if status == 401:
        h.append(("www-authenticate", "Bearer"))
    if isinstance(error, RateLimited | Unavailable):
        h.append(("retry-after", str(error.retry_after)))
    return Response.json(error_body(status, error.problems), status, h)


def render_unexpected(request_id: str) -> Response:
    """A 500 that says nothing about internals; the request id ties it to the log line."""
    problem = Problem("server", "internalError", f"an unexpected error occurred; quote request id {request_id}")
    return Response.json(error_body(500, (problem,)), 500)

"""Every failure the SDK raises, in one tree.

```
ParleyError                      anything this package raises on purpose
├── TransportError               the server could not be reached (after the retries)
├── DecodingError                a 2xx answer did not have the contract's shape
└── APIError                     the server answered with the contract's error body
    ├── BadRequest               400
    │   └── InvalidSession       400 missingSession / invalidSession (also WebSocket close 4400)
    ├── Unauthorized             401 (also the token service's invalid_client, WebSocket close 4401)
    ├── NotFound                 404
    ├── MethodNotAllowed         405
    ├── Gone                     410 the interaction has ended
    ├── PayloadTooLarge          413
    ├── UnsupportedMediaType     415
    ├── Unprocessable            422 notActive, textTooLong, idempotencyKeyReused, ...
    ├── RateLimited              429 (retry_after)
    └── ServerError              5xx
        ├── InternalServerError  500
        └── ServiceUnavailable   503 (retry_after)
```

An ``APIError`` carries ``status_code``, ``code``, ``message``, ``errors`` (one ``ErrorDetail``
per problem), ``request_id`` (the ``x-request-id`` header) and ``retry_after`` when the server
sent ``Retry-After``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

SESSION_REASONS = frozenset({"missingSession", "invalidSession"})


class ParleyError(Exception):
    """Base of every error this package raises on purpose."""


class TransportError(ParleyError):
    """The request never got an answer: connection refused, reset, timed out."""


class DecodingError(ParleyError):
    """A successful answer whose body does not match the contract."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One problem of an error body: the offending field or header, a stable reason, a message."""

    scope: str
    reason: str
    message: str


class APIError(ParleyError):
    """The server refused the request; the attributes are the contract's error body."""

    def __init__(
        self,
        status_code: int,
        message: str,
        errors: list[ErrorDetail] | None = None,
        *,
        code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.code = status_code if code is None else code
        self.message = message
        self.errors = list(errors or [])
        self.request_id = request_id
        self.retry_after = retry_after
        self.response = response
        detail = "; ".join(f"{e.scope}: {e.message}" for e in self.errors) or message
        suffix = f" (request {request_id})" if request_id else ""
        super().__init__(f"{status_code} {message}: {detail}{suffix}")

    @property
    def reason(self) -> str | None:
        """The first problem's stable reason, e.g. ``"interactionEnded"``."""
        return self.errors[0].reason if self.errors else None


class BadRequest(APIError):
    """400: a malformed request, a missing header or an invalid streaming session."""


class InvalidSession(BadRequest):
    """400: the via-client-sessionid is missing, unknown, expired or was dropped."""


class Unauthorized(APIError):
    """401: missing or bad token or API key, or a scope the token lacks."""


class NotFound(APIError):
    """404: no such user or interaction in this organization."""


class MethodNotAllowed(APIError):
    """405: the path exists but not with this method."""


class Gone(APIError):
    """410: the interaction has ended."""


class PayloadTooLarge(APIError):
    """413: the body is over the server's size limit."""


class UnsupportedMediaType(APIError):
    """415: a body that is not JSON."""


class Unprocessable(APIError):
    """422: a well-formed request that the interaction's state forbids."""


class RateLimited(APIError):
    """429: too many requests; ``retry_after`` says when to try again."""


class ServerError(APIError):
    """5xx: the server failed."""


class InternalServerError(ServerError):
    """500: an unexpected server failure; quote ``request_id`` when reporting it."""


class ServiceUnavailable(ServerError):
    """503: a dependency is down or the server is overloaded; ``retry_after`` says when to retry."""


BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    404: NotFound,
    405: MethodNotAllowed,
    410: Gone,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Unprocessable,
    429: RateLimited,
    500: InternalServerError,
    503: ServiceUnavailable,
}


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds; HTTP dates are not used by Parley and count as absent."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


def error_class(status: int, reasons: list[str]) -> type[APIError]:
    if status == 400 and reasons and reasons[0] in SESSION_REASONS:
        return InvalidSession
    if status in BY_STATUS:
        return BY_STATUS[status]
    return ServerError if status >= 500 else APIError


def _details(body: Any) -> tuple[str, list[ErrorDetail], int | None]:
    if not isinstance(body, dict):
        return "", [], None
    errors = [
        ErrorDetail(str(e.get("scope", "")), str(e.get("reason", "")), str(e.get("message", "")))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    if not errors and "error" in body:  # an RFC 6749 token error without the contract's body
        errors = [ErrorDetail("authorization", str(body["error"]), str(body.get("error_description", "")))]
    code = body.get("code")
    return str(body.get("message", "")), errors, code if isinstance(code, int) else None


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error answer; the body must already be read."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        body = None
    message, errors, code = _details(body)
    cls = error_class(response.status_code, [e.reason for e in errors])
    return cls(
        response.status_code,
        message or response.reason_phrase,
        errors,
        code=code,
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after_seconds(response.headers.get("retry-after")),
        response=response,
    )


def error_from_close(code: int, reason: str) -> APIError:
    """A WebSocket closed by the server with 4401 / 4400 after the upgrade."""
    status = 401 if code == 4401 else 400
    reason_token = "invalidToken" if status == 401 else "invalidSession"
    scope = "authorization" if status == 401 else "via-client-sessionid"
    detail = ErrorDetail(scope, reason_token, reason)
    return error_class(status, [reason_token])(status, reason or "closed", [detail])

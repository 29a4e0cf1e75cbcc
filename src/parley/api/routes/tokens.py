"""The token service (contract 1.2): OAuth2 client credentials, RFC 6749 errors."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote

from parley.api.errors import error_body
from parley.api.gate import ratelimit_headers
from parley.api.http import Request, Response, Route
from parley.api.schemas import TokenResponse
from parley.domain.errors import Problem
from parley.service.tokens import OAuthError, TokenService

PATH = "/tokenservice/oauth2/access_token"


def basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if not header:
        return None, None
    kind, _, value = header.partition(" ")
    if kind.lower() != "basic":
        return None, None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "invalid_client", "malformed HTTP Basic credentials") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(401, "invalid_client", "malformed HTTP Basic credentials")
    # RFC 6749 section 2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


def oauth_error(exc: OAuthError) -> Response:
    # RFC 6749's fields, plus the contract's error body so every client finds what it expects.
    body: dict[str, object] = {"error": exc.error, "error_description": exc.description}
    limited = exc.status == 429
    scope = "authorization" if limited or exc.error == "invalid_client" else exc.error
    reason = "rateLimited" if limited else exc.error
    body.update(error_body(exc.status, (Problem(scope, reason, exc.description),)))
    headers = [("cache-control", "no-store"), ("pragma", "no-cache")]
    for name, buckets, decision in exc.limits:
        headers += ratelimit_headers(name, buckets, decision)
    if exc.status == 401:
        headers.append(("www-authenticate", 'Basic realm="parley"'))
    if limited:
        headers.append(("retry-after", str(exc.retry_after)))
    return Response.json(body, exc.status, headers)


def routes(tokens: TokenService) -> list[Route]:
    async def access_token(request: Request) -> Response:
        try:
            if request.body.strip() and request.content_type != "application/x-www-form-urlencoded":
                raise OAuthError(400, "invalid_request", "send the fields as application/x-www-form-urlencoded")
            try:
                form = dict(parse_qsl(request.body.decode("utf-8"), keep_blank_values=True))
            except UnicodeDecodeError:
                raise OAuthError(400, "invalid_request", "the form is not UTF-8") from None
            if any("\x00" in k or "\x00" in v for k, v in form.items()):
                raise OAuthError(400, "invalid_request", "the form may not contain NUL characters")
            client_id, secret = basic_credentials(request.headers.get("authorization"))
            if client_id is None:
                client_id, secret = form.get("client_id"), form.get("client_secret")
            issued = await tokens.issue(
                realm=request.query.get("realm") or form.get("realm"),
                grant_type=form.get("grant_type"),
                client_id=client_id,
                client_secret=secret,
                scope=form.get("scope"),
                client_ip=request.client_ip,
            )
        except OAuthError as exc:
            return oauth_error(exc)
        return Response.json(
            {
                "access_token": issued.access_token,
                "scope": " ".join(sorted(issued.scopes)),
                "token_type": "Bearer",
                "expires_in": issued.expires_in,
            },
            headers=[("cache-control", "no-store"), ("pragma", "no-cache")],
        )

    return [
        Route(
            "POST",
            PATH,
            access_token,
            "Get an access token (OAuth2 client credentials)",
            "Token Service",
            response=TokenResponse,
            security=("basic",),
            content_type="application/x-www-form-urlencoded",
            error_statuses=(400, 401, 429),
        ),
    ]

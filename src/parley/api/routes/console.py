"""Console sign-in (contract 12): the cookie that only mints short user tokens, and invitations."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie
from typing import Any, Final

from parley.api.http import Request, Response, Route
from parley.api.routes.common import json_body
from parley.api.schemas import AcceptInvite, ConsoleToken, SignedIn, SignInBody
from parley.domain.accounts import User
from parley.service.signin import SESSION_SECONDS, MintedToken, SignIn

BASE: Final = "/console/api"
COOKIE: Final = "parley_console"
NO_STORE: Final = ("cache-control", "no-store")


def cookie_secret(request: Request) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie", ""))
    except CookieError:
        return None
    morsel = jar.get(COOKIE)
    return morsel.value if morsel is not None else None


def set_cookie(request: Request, value: str, max_age: int) -> tuple[str, str]:
    # HttpOnly: page scripts never read it; SameSite=Strict: other sites' pages never send it.
    attributes = f"{COOKIE}={value}; Path={BASE}; Max-Age={max_age}; HttpOnly; SameSite=Strict"
    if request.headers.get("x-forwarded-proto") == "https":
        attributes += "; Secure"
    return ("set-cookie", attributes)


def signed_in(user: User) -> dict[str, Any]:
    return {
        "orgId": user.org_id,
        "userId": user.user_id,
        "preferredName": user.display_name,
        "roles": list(user.roles),
    }


def minted(token: MintedToken) -> dict[str, Any]:
    return {
        **signed_in(token.user),
        "accessToken": token.access_token,
        "apiKey": token.api_key,
        "expiresIn": token.expires_in,
    }


def routes(signin: SignIn) -> list[Route]:
    async def sign_in(request: Request) -> Response:
        body = json_body(request, SignInBody)
        secret, user = await signin.sign_in(body.orgId, body.email, body.password, request.client_ip)
        return Response.json(signed_in(user), 200, [NO_STORE, set_cookie(request, secret, SESSION_SECONDS)])

    async def token(request: Request) -> Response:
        return Response.json(minted(await signin.mint(cookie_secret(request))), 200, [NO_STORE])

    async def sign_out(request: Request) -> Response:
        await signin.sign_out(cookie_secret(request))
        return Response(204, b"", [NO_STORE, set_cookie(request, "", 0)])

    async def accept_invite(request: Request) -> Response:
        body = json_body(request, AcceptInvite)
        user = await signin.accept_invite(body.token, body.password)
        return Response.json(signed_in(user), 200, [NO_STORE])

    tag = "Console"
    return [
        Route(
            "POST", BASE + "/session", sign_in, "Sign in with email and password (sets the console cookie)", tag,
            body=SignInBody, response=SignedIn,
        ),
        Route(
            "POST", BASE + "/token", token, "Mint a short access token for the signed-in user (needs the cookie)", tag,
            response=ConsoleToken,
        ),
        Route("DELETE", BASE + "/session", sign_out, "Sign out: revoke the console and its tokens", tag, status=204),
        Route(
            "POST", BASE + "/invite", accept_invite, "Choose a password through an invitation", tag,
            body=AcceptInvite, response=SignedIn,
        ),
    ]  # fmt: skip

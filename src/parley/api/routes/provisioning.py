"""Provisioning of users (contract 8)."""

from __future__ import annotations

from functools import partial
from typing import Any

from parley.api.gate import AgentCall, Gate
from parley.api.http import Response, Route
from parley.api.routes.common import ORG, json_body
from parley.api.schemas import CreateUser, UserList, UserQuery, UserRecord
from parley.api.validation import convert
from parley.domain.accounts import Scope, User
from parley.service.accounts import Accounts, NewUser

PATH = ORG + "/provisioning/users"
SCOPE = Scope.PROVISIONING.value


def user_record(user: User) -> dict[str, Any]:
    return {
        "userId": user.user_id,
        "firstName": user.first_name,
        "lastName": user.last_name,
        "preferredName": user.preferred_name,
        "email": user.email,
        "roles": list(user.roles),
    }


def routes(gate: Gate, accounts: Accounts) -> list[Route]:
    async def list_users(call: AgentCall) -> Response:
        query = convert(dict(call.request.query), UserQuery)
        page = await accounts.find_users(
            call.principal.org_id,
            query.email,
            query.preferredNameValue,
            query.maxResults,
            query.continuationToken,
        )
        body: dict[str, Any] = {"totalItems": page.total, "users": [user_record(u) for u in page.users]}
        if page.continuation_token:
            body["continuationToken"] = page.continuation_token
        return Response.json(body)

    async def create_user(call: AgentCall) -> Response:
        body = json_body(call.request, CreateUser)
        user = await accounts.create_user(
            call.principal.org_id,
            NewUser(body.firstName, body.lastName, body.email, body.preferredName, tuple(body.roles)),
        )
        return Response.json(user_record(user), 201)

    route = partial(Route, path=PATH, tag="Provisioning", security=("bearer",), headers=("x-api-key",))
    return [
        route("GET", handler=gate.agent(SCOPE, list_users), summary="Find users", response=UserList, query=UserQuery),
        route(
            "POST",
            handler=gate.agent(SCOPE, create_user),
            summary="Create a user",
            body=CreateUser,
            response=UserRecord,
            status=201,
        ),
    ]

"""The ``AlreadyExists`` errors every store raises when a uniqueness rule is broken."""

from __future__ import annotations

from typing import Final

from parley.domain.errors import AlreadyExists, ParleyError

_PROBLEMS: Final[dict[str, tuple[str, str]]] = {
    "duplicateOrganization": ("orgId", "an organization with this id already exists"),
    "duplicateClient": ("clientId", "an OAuth client with this id already exists"),
    "duplicateApiKey": ("apiKey", "this API key already exists"),
    "duplicateToken": ("token", "this access token already exists"),
    "duplicateUser": ("userId", "a user with this id already exists"),
    "duplicateEmail": ("email", "a user with this email address already exists in the organization"),
    "duplicateInteraction": ("interactionId", "an interaction with this id already exists"),
    "duplicateMessage": ("messageId", "this message (or its sequence number) already exists"),
    "idempotencyKeyExists": ("idempotency-key", "this Idempotency-Key was already used"),
    "duplicateSmsNumber": ("number", "this phone number already belongs to an organization"),
    "duplicateWebhook": ("webhookId", "a webhook with this id already exists"),
}


def already_exists(reason: str) -> ParleyError:
    scope, message = _PROBLEMS[reason]
    return AlreadyExists.of(scope, reason, message)


def user_conflict(detail: str) -> ParleyError:
    """Which of the users table's rules ``detail`` (a constraint or its columns) names."""
    return already_exists("duplicateEmail" if "email" in detail else "duplicateUser")

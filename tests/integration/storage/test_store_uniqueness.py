"""Storing the same thing twice is refused with ``AlreadyExists`` and a stable reason."""

from __future__ import annotations

from typing import Any

import pytest

from parley.domain.errors import AlreadyExists
from parley.service.ports import Store
from tests.integration.storage import storage_samples as s


@pytest.mark.parametrize(
    ("method", "value", "scope", "reason"),
    [
        ("add_organization", s.organization(), "orgId", "duplicateOrganization"),
        ("add_client", s.client(), "clientId", "duplicateClient"),
        ("add_api_key", s.api_key(), "apiKey", "duplicateApiKey"),
        ("add_token", s.token(), "token", "duplicateToken"),
        ("add_user", s.user(), "email", "duplicateEmail"),
        ("add_interaction", s.interaction(), "interactionId", "duplicateInteraction"),
        ("add_message", s.message(1), "messageId", "duplicateMessage"),
        ("put_idempotency", s.idempotency(), "idempotency-key", "idempotencyKeyExists"),
    ],
)
async def test_a_second_copy_is_refused(store: Store, method: str, value: Any, scope: str, reason: str) -> None:
    add = getattr(store, method)
    await add(value)

    with pytest.raises(AlreadyExists) as raised:
        await add(value)

    assert (raised.value.problems[0].scope, raised.value.reason) == (scope, reason)

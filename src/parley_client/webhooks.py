"""Verifying Parley's webhook deliveries, with the ``standardwebhooks`` library.

```python
from parley_client.webhooks import WebhookVerificationError, verify

try:
    event = verify(request.headers, body, secret)   # body: the raw bytes as received
except WebhookVerificationError:
    ...  # answer 400; the delivery did not come from Parley, or was changed on the way
```
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

__all__ = ["WebhookVerificationError", "verify"]


def verify(headers: Mapping[str, str], body: bytes | str, secret: str | list[str]) -> dict[str, Any]:
    """The delivery's event envelope, once its signature and timestamp check out.

    ``headers`` are the request's (any mapping; names in any case), ``body`` the request body
    exactly as received, ``secret`` the webhook's ``whsec_...`` secret, or a list of secrets to
    accept while a receiver moves to a rotated one. Raises ``WebhookVerificationError`` if no
    secret signed it, a header is missing, or its timestamp is more than 5 minutes off.
    """
    plain = {str(name).lower(): str(value) for name, value in headers.items()}
    secrets = [secret] if isinstance(secret, str) else list(secret)
    if not secrets:
        raise ValueError("give at least one secret")
    failure: WebhookVerificationError | None = None
    for one in secrets:
        try:
            envelope: dict[str, Any] = Webhook(one).verify(body, plain)
            return envelope
        except WebhookVerificationError as exc:
            failure = exc
    assert failure is not None
    raise failure

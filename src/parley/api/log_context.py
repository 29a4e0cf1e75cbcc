"""Which request a log line was written for: set once per request, read only by a log formatter."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Final

# (the app's request-id prefix, the request's number, its path parameters); see ParleyASGI.respond
CURRENT_REQUEST: Final[ContextVar[tuple[str, int, dict[str, str]] | None]] = ContextVar(
    "parley_current_request", default=None
)


def request_fields() -> dict[str, str]:
    """``requestId`` (as ``x-request-id`` says it) and ``orgId`` of the request being answered."""
    current = CURRENT_REQUEST.get()
    if current is None:
        return {}
    prefix, number, params = current
    fields = {"requestId": f"{prefix}-{number}"}
    org_id = params.get("orgId")
    if org_id:
        fields["orgId"] = org_id
    return fields

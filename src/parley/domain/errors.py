"""Domain errors: stable lowerCamelCase reasons, no HTTP.

The API layer maps each class to a status in one table (``parley.api.errors``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request: which field/header/parameter, why, and a human message."""

    scope: str
    reason: str
    message: str


class ParleyError(Exception):
    """Base of every expected failure. Carries one or more problems."""

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("a ParleyError needs at least one problem")
        super().__init__(problems[0].message)
        self.problems: tuple[Problem, ...] = problems

    @classmethod
    def of(cls, scope: str, reason: str, message: str) -> Self:
        return cls(Problem(scope, reason, message))

    @property
    def reason(self) -> str:
        return self.problems[0].reason


class InvalidRequest(ParleyError):
    """The request itself is wrong: a field, a header, the session it names (400)."""


class Unauthenticated(ParleyError):
    """Missing or wrong credentials (401)."""


class NotFound(ParleyError):
    """What the request names does not exist, or is not the caller's to see (404)."""


class Gone(ParleyError):
    """What the request names has ended (410)."""


class RuleViolation(ParleyError):
    """A well-formed request that the current state forbids."""


class RateLimited(ParleyError):
    """Over a rate limit; ``retry_after`` seconds until a request would pass (429)."""

    def __init__(self, *problems: Problem, retry_after: int = 1) -> None:
        super().__init__(*problems)
        self.retry_after = max(1, retry_after)


class Unavailable(ParleyError):
    """A dependency is failing; ``retry_after`` seconds until it is worth asking again (503)."""

    def __init__(self, *problems: Problem, retry_after: int = 1) -> None:
        super().__init__(*problems)
        self.retry_after = max(1, retry_after)


class AlreadyExists(ParleyError):
    """A uniqueness rule was broken (duplicate email, org id, ...). Rendered as 422."""

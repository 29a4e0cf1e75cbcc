"""Why a session is gone: the texts ``SessionDropped`` carries into the ``invalidSession`` body.

The templates use ``%s`` so the Redis scripts can fill them with Lua's ``string.format`` too.
"""

from __future__ import annotations

UNKNOWN = "unknown session"
DELETED = "session deleted"
EXPIRED = "session expired after %s s without a poll"
FELL_BEHIND = "the session fell more than %s events behind; re-read transcripts and open a new session"


def expired(inactivity_delay: int) -> str:
    return EXPIRED % inactivity_delay


def fell_behind(queue_limit: int) -> str:
    return FELL_BEHIND % queue_limit

"""What operators read about an interaction's life, a streaming session's end, credentials and
SMS (contract 13): one ``info`` line each, with the ids as fields, never a secret or a text.

Offers are counted here too, so the log and ``parley_offers_total`` always tell the same story.
"""

from __future__ import annotations

import logging
from typing import Final

from parley.domain.interactions import Interaction
from parley.service.counters import COUNTS

log: Final = logging.getLogger("parley.lifecycle")


def _interaction(event: str, interaction: Interaction, text: str, **fields: object) -> None:
    log.info(
        text,
        extra={
            "event": event,
            "orgId": interaction.org_id,
            "interactionId": interaction.interaction_id,
            "channelType": interaction.channel_type.value,
            **fields,
        },
    )


def created(interaction: Interaction) -> None:
    _interaction("interaction.created", interaction, f"interaction {interaction.interaction_id} created")


def offered(interaction: Interaction, user_id: str) -> None:
    text = f"interaction {interaction.interaction_id} offered to {user_id}"
    _interaction("interaction.offered", interaction, text, userId=user_id)


def accepted(interaction: Interaction, user_id: str) -> None:
    _answered("accepted", "interaction.accepted", interaction, user_id, f"accepted by {user_id}")


def rejected(interaction: Interaction, user_id: str) -> None:
    _answered("rejected", "interaction.rejected", interaction, user_id, f"rejected by {user_id}")


def timed_out(interaction: Interaction, user_id: str) -> None:
    _answered("timeout", "interaction.timedOut", interaction, user_id, f"the offer to {user_id} timed out")


def _answered(outcome: str, event: str, interaction: Interaction, user_id: str, what: str) -> None:
    COUNTS.offer(outcome)
    _interaction(event, interaction, f"interaction {interaction.interaction_id} {what}", userId=user_id)


def transferred(interaction: Interaction, from_user_ids: list[str], to_user_id: str | None) -> None:
    text = f"interaction {interaction.interaction_id} transferred to {to_user_id or 'the queue'}"
    _interaction("interaction.transferred", interaction, text, fromUserIds=from_user_ids, toUserId=to_user_id)


def ended(interaction: Interaction, by: str, reason: str) -> None:
    text = f"interaction {interaction.interaction_id} ended by {by} ({reason})"
    _interaction("interaction.ended", interaction, text, endedBy=by, reason=reason)


def session_dropped(org_id: str, session_id: str, owner: str, reason: str) -> None:
    log.info(
        "streaming session %s dropped: %s",
        session_id,
        reason,
        extra={"event": "session.dropped", "orgId": org_id, "sessionId": session_id, "owner": owner, "reason": reason},
    )


def credential(action: str, kind: str, credential_id: str, org_id: str = "") -> None:
    """``action`` is ``created`` or ``revoked``; ``kind`` ``client`` or ``apiKey`` (the id, never the secret)."""
    log.info(
        "%s %s %s",
        kind,
        credential_id,
        action,
        extra={"event": f"credential.{action}", "orgId": org_id, "kind": kind, "credentialId": credential_id},
    )


def sms(status: str, org_id: str, message_id: str, segments: int, reason: str = "") -> None:
    """An SMS sent to the gateway or failed (the number is masked elsewhere; never the text)."""
    COUNTS.sms_counted("outbound", status)
    log.info(
        "SMS %s %s%s",
        message_id,
        status,
        f" ({reason})" if reason else "",
        extra={
            "event": f"sms.{status}",
            "orgId": org_id,
            "messageId": message_id,
            "segments": segments,
            "reason": reason,
        },
    )

"""Recovering a lost streaming session without I/O: which chats to catch up on, and the messages
of their transcripts the consumer has not seen yet, as the events that would have brought them.

A session the server no longer knows (400 ``invalidSession``: idle too long, or Redis restarted
without persistence) took with it what it had not handed out. The stream opens a new one, which
gets everything from then on, and reads the transcripts of the chats it knows to be open for what
came in between; a message is known by its ``message_id``, so none is handed out twice.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field

from parley_client._events import ActiveEvent, BaseEvent, DisconnectedEvent, TextEvent, UrlEvent, decode_event
from parley_client._models import Transcript

REMEMBERED_MESSAGES = 10_000
MAX_RENEWALS = 3  # sessions lost in a row without an event between: something else is wrong
CATCH_UP_PREFIX = "transcript:"  # the event_id of a message brought by a transcript


@dataclass(slots=True)
class CatchUp:
    chats: set[str] = field(default_factory=set)  # interactions the consumer was shown and not ended
    messages: OrderedDict[str, None] = field(default_factory=OrderedDict)
    renewals: int = 0

    def shown(self, event: BaseEvent) -> bool:
        """Note an event before the consumer gets it; False for a message it has had already."""
        self.renewals = 0
        if isinstance(event, TextEvent | UrlEvent):
            message_id = event.payload.message_id
            if message_id in self.messages:
                return False
            self.messages[message_id] = None
            if len(self.messages) > REMEMBERED_MESSAGES:
                self.messages.popitem(last=False)
            self.chats.add(event.payload.interaction_id)
        elif isinstance(event, ActiveEvent):
            self.chats.add(event.payload.interaction_id)
        elif isinstance(event, DisconnectedEvent):
            self.chats.discard(event.payload.interaction_id)
        return True

    def renewing(self) -> bool:
        """Whether to open another session for a lost one (not again and again)."""
        self.renewals += 1
        return self.renewals <= MAX_RENEWALS

    def missed(self, transcripts: Iterable[Transcript]) -> list[BaseEvent]:
        """The messages of the transcripts not shown yet, oldest first, as Text and Url events."""
        events: list[BaseEvent] = []
        for transcript in transcripts:
            for m in transcript.messages:
                if m.message_id in self.messages:
                    continue
                payload = {
                    "interactionId": transcript.interaction_id,
                    "messageId": m.message_id,
                    "channelType": transcript.channel_type,
                    "entityName": m.entity_name,
                    "entityType": m.entity_type,
                    "sentTime": m.sent_time,
                    **({"url": m.url} if m.url is not None else {"text": m.text or ""}),
                    **({"userId": m.user_id} if m.user_id is not None else {}),
                }
                kind = "messaging.Url" if m.url is not None else "messaging.Text"
                envelope = {"eventId": CATCH_UP_PREFIX + m.message_id, "sequenceNumber": 0, "eventType": kind}
                events.append(decode_event({**envelope, "eventTime": m.sent_time, "payload": payload}))
        return events

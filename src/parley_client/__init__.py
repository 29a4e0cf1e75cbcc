"""The Python SDK for Parley, the Alvaria Messaging API (Chat/SMS) v2.0.1 hub.

```python
from parley_client import AsyncClient, OfferedEvent, TextEvent

async with AsyncClient(url, org="acme", client_id=cid, client_secret=secret, api_key=key) as client:
    await client.start_session(user_id)
    await client.ready()
    async for event in client.events():
        if isinstance(event, OfferedEvent):
            await client.accept(event.payload.interaction_id, event.payload.ehub_session_id)
        elif isinstance(event, TextEvent) and event.payload.entity_type == "Contact":
            await client.send_text(event.payload.interaction_id, "Thanks, " + event.payload.entity_name)
```

``Client`` is the blocking twin of ``AsyncClient``; ``WebChatClient`` and ``AsyncWebChatClient``
act as a web-chat customer. Errors: see ``parley_client._exceptions`` (every one derives from
``ParleyError``). The guide is ``docs/sdk.md``.
"""

from parley_client._async_client import AsyncClient, AsyncWebChatClient
from parley_client._async_streams import AsyncEventStream
from parley_client._auth import BearerToken, ClientCredentials
from parley_client._client import Client, WebChatClient
from parley_client._events import (
    AcceptCallTimeout,
    AcceptCallTimeoutEvent,
    Active,
    ActiveEvent,
    AnyEvent,
    BaseEvent,
    DeliveryStatus,
    DeliveryStatusEvent,
    Disconnected,
    DisconnectedEvent,
    Event,
    EventBatch,
    Notification,
    NotificationEvent,
    Offered,
    OfferedEvent,
    Reset,
    ResetEvent,
    Text,
    TextEvent,
    Url,
    UrlEvent,
    decode_event,
)
from parley_client._exceptions import (
    APIError,
    BadRequest,
    DecodingError,
    ErrorDetail,
    Gone,
    InternalServerError,
    InvalidSession,
    MethodNotAllowed,
    NotFound,
    ParleyError,
    PayloadTooLarge,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    TransportError,
    Unauthorized,
    Unprocessable,
    UnsupportedMediaType,
)
from parley_client._models import (
    Acknowledge,
    ChatStarted,
    ContactDisconnect,
    ContactNotification,
    ContactText,
    ContactUrl,
    CreateSession,
    CreateUser,
    EntityType,
    InteractionPage,
    InteractionRecord,
    NotificationParms,
    NotReady,
    OfferAnswer,
    Ready,
    Role,
    SendTextParms,
    SendUrlParms,
    Session,
    SmsPreview,
    SmsPreviewParms,
    StartChat,
    Token,
    Transcript,
    TranscriptMessage,
    Transfer,
    User,
    UserPage,
    UserState,
    UserStateList,
    Webhook,
    WebhookDelivery,
    WebToken,
)
from parley_client._retry import Retries
from parley_client._stream_common import StreamMode
from parley_client._streams import EventStream
from parley_client._typing import AsyncTyping, Typing

__version__ = "0.1.0"

__all__ = [
    "APIError",
    "AcceptCallTimeout",
    "AcceptCallTimeoutEvent",
    "Acknowledge",
    "Active",
    "ActiveEvent",
    "AnyEvent",
    "AsyncClient",
    "AsyncEventStream",
    "AsyncTyping",
    "AsyncWebChatClient",
    "BadRequest",
    "BaseEvent",
    "BearerToken",
    "ChatStarted",
    "Client",
    "ClientCredentials",
    "ContactDisconnect",
    "ContactNotification",
    "ContactText",
    "ContactUrl",
    "CreateSession",
    "CreateUser",
    "DecodingError",
    "DeliveryStatus",
    "DeliveryStatusEvent",
    "Disconnected",
    "DisconnectedEvent",
    "EntityType",
    "ErrorDetail",
    "Event",
    "EventBatch",
    "EventStream",
    "Gone",
    "InteractionPage",
    "InteractionRecord",
    "InternalServerError",
    "InvalidSession",
    "MethodNotAllowed",
    "NotFound",
    "NotReady",
    "Notification",
    "NotificationEvent",
    "NotificationParms",
    "OfferAnswer",
    "Offered",
    "OfferedEvent",
    "ParleyError",
    "PayloadTooLarge",
    "RateLimited",
    "Ready",
    "Reset",
    "ResetEvent",
    "Retries",
    "Role",
    "SendTextParms",
    "SendUrlParms",
    "ServerError",
    "ServiceUnavailable",
    "Session",
    "SmsPreview",
    "SmsPreviewParms",
    "StartChat",
    "StreamMode",
    "Text",
    "TextEvent",
    "Token",
    "Transcript",
    "TranscriptMessage",
    "Transfer",
    "TransportError",
    "Typing",
    "Unauthorized",
    "Unprocessable",
    "UnsupportedMediaType",
    "Url",
    "UrlEvent",
    "User",
    "UserPage",
    "UserState",
    "UserStateList",
    "WebChatClient",
    "WebToken",
    "Webhook",
    "WebhookDelivery",
    "__version__",
    "decode_event",
]

for _name in __all__:
    _member = globals()[_name]
    if getattr(_member, "__module__", "").startswith("parley_client."):
        _member.__module__ = "parley_client"

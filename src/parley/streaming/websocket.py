"""A streaming session over a WebSocket: one JSON envelope per text frame (contract 4).

Server clients authenticate with the usual headers on the upgrade request; browsers, which
cannot set headers, send them as the first text frame within 5 seconds. Client frames:
``{"resumeAfter": N}`` replays from N, ``{"acknowledge": N}`` acknowledges up to N.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from parley.domain.errors import InvalidRequest, ParleyError, Unauthenticated, Unavailable
from parley.service.counters import COUNTS
from parley.service.ports import Envelope, StreamSession
from parley.service.streaming import Streaming
from parley.streaming.wire import encode, on_wire

Authorize = Callable[[dict[str, str]], Awaitable[StreamSession]]
# An error as an HTTP answer (status, headers, body), for refusing the upgrade itself.
Refusal = Callable[[ParleyError], tuple[int, list[tuple[str, str]], bytes]]
Message = MutableMapping[str, Any]

AUTH_FRAME_SECONDS = 5.0
BATCH = 100
CREDENTIAL_KEYS = ("authorization", "x-api-key", "via-client-sessionid")
SERVICE_RESTART = 1012  # RFC 6455 7.4.1 as registered by IANA: the client reconnects and resumes
TRY_AGAIN_LATER = 1013  # the same registry: a dependency is unavailable for now


def _sequence_number(value: Any) -> bool:
    """A frame's sequence number: anything else in the frame is ignored, as an unknown key is."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53


def close_code(error: ParleyError) -> int:
    if isinstance(error, Unavailable):
        return TRY_AGAIN_LATER  # a dependency fault: reconnect and resume shortly
    return 4401 if isinstance(error, Unauthenticated) else 4400


class WebSocketStream:
    def __init__(
        self,
        streaming: Streaming,
        authorize: Authorize,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
        refusal: Refusal,
    ) -> None:
        self.streaming = streaming
        self.authorize = authorize
        self.refusal = refusal
        self.scope = scope
        self.receive = receive
        self.send = send

    async def run(self) -> None:
        if (await self.receive())["type"] != "websocket.connect":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope["headers"]}
        if headers.get("authorization"):
            try:
                session = await self.authorize(headers)
            except ParleyError as exc:
                await self._refuse(exc)
                return
            await self.send({"type": "websocket.accept"})
        else:
            await self.send({"type": "websocket.accept"})
            try:
                session = await self._authorize_first_frame()
            except ParleyError as exc:
                await self._close(close_code(exc), exc.problems[0].message)
                return
            except (TimeoutError, _Disconnected):
                await self._close(4401, "send the credentials frame first")
                return
        await self._serve(session)

    async def _refuse(self, error: ParleyError) -> None:
        if "websocket.http.response" in self.scope.get("extensions", {}):
            status, raw_headers, body = self.refusal(error)
            headers = [(k.encode(), v.encode()) for k, v in raw_headers]
            await self.send({"type": "websocket.http.response.start", "status": status, "headers": headers})
            await self.send({"type": "websocket.http.response.body", "body": body})
        else:
            await self._close(close_code(error), error.problems[0].message)

    async def _authorize_first_frame(self) -> StreamSession:
        frame = await asyncio.wait_for(self._next_frame(), AUTH_FRAME_SECONDS)
        if not isinstance(frame, dict):
            raise InvalidRequest.of("body", "invalidType", "the first frame must be a JSON object of credentials")
        creds = {k: str(frame[k]) for k in CREDENTIAL_KEYS if frame.get(k) is not None}
        return await self.authorize(creds)

    async def _next_frame(self) -> Any:
        message = await self.receive()
        if message["type"] == "websocket.disconnect":
            raise _Disconnected
        text = message.get("text")
        if text is None and message.get("bytes") is not None:
            text = message["bytes"].decode("utf-8", "replace")
        try:
            return json.loads(text or "")
        except (ValueError, RecursionError):
            raise InvalidRequest.of("body", "malformedJson", "frames must be JSON") from None

    async def _serve(self, session: StreamSession) -> None:
        # A resumeAfter frame may arrive while a batch is being sent: it is parked here and the
        # pump takes it before its next read, so the request is never overwritten or lost. If
        # the pump is waiting for events, the reader cancels that wait (the pump then resumes):
        # one awaited call per batch, where waiting for the first of two tasks cost two tasks
        # and an asyncio.wait for every batch, most of a WebSocket's cost when each carries one event.
        resume_request: list[int | None] = [None]
        restart = [False]
        waiting = [False]
        replay_cancels = [0]  # the reader's cancels of the pump's wait, not yet taken
        pumping: list[asyncio.Task[None]] = []

        async def pump() -> None:
            cursor: int | None = None
            while True:
                if restart[0]:
                    restart[0] = False
                    cursor = resume_request[0]
                waiting[0] = True
                try:
                    batch = await self.streaming.next_events(session, BATCH, 15.0, cursor)
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if not replay_cancels[0] or task is None or task.cancelling() > 1:
                        raise  # cancelled by someone else too: the stream ends
                    replay_cancels[0] = 0
                    task.uncancel()
                    continue
                finally:
                    waiting[0] = False
                if not batch and self.streaming.stopping:
                    raise _ServerStopping
                for item in batch:
                    if restart[0]:
                        break  # the client asked for a replay; what is left of this batch is stale
                    if isinstance(item, Envelope):
                        cursor = item.sequence_number
                    elif cursor is None:
                        cursor = item.oldest_available - 1
                    await self.send({"type": "websocket.send", "text": encode(on_wire(item)).decode()})
                    COUNTS.delivered("websocket", 1)

        async def read() -> None:
            while True:
                try:
                    frame = await self._next_frame()
                except InvalidRequest:
                    continue
                if not isinstance(frame, dict):
                    continue
                if _sequence_number(frame.get("resumeAfter")):
                    resume_request[0] = frame["resumeAfter"]
                    restart[0] = True
                    if waiting[0] and not replay_cancels[0]:
                        replay_cancels[0] = 1
                        pumping[0].cancel()
                if _sequence_number(frame.get("acknowledge")):
                    await self.streaming.acknowledge(session, frame["acknowledge"])

        pumping.append(asyncio.create_task(pump()))
        tasks = [pumping[0], asyncio.create_task(read())]
        COUNTS.stream_opened("websocket")
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            COUNTS.stream_closed("websocket")
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        # Both may have ended at once (a stopping server also disconnects the socket): every
        # error is retrieved, and the one that says why wins over a disconnect.
        errors = [t.exception() for t in done if not t.cancelled()]
        error = next((e for e in errors if e is not None and not isinstance(e, _Disconnected)), None)
        if isinstance(error, ParleyError):
            await self._close(close_code(error), error.problems[0].message)
        elif isinstance(error, _ServerStopping):
            await self._close(SERVICE_RESTART, "the server is restarting; reconnect and resume")
        elif error is not None:
            raise error

    async def _close(self, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            await self.send({"type": "websocket.close", "code": code, "reason": reason[:120]})


class _Disconnected(Exception):
    pass


class _ServerStopping(Exception):
    pass

"""One API operation described without I/O, and how its answer is read.

``Client`` and ``AsyncClient`` share every operation: a builder returns a ``Call``, and
``sync_op`` / ``async_op`` turn the builder into a blocking or an awaitable method.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, TypeVar

import httpx
import msgspec

from parley_client._exceptions import DecodingError

if TYPE_CHECKING:
    from parley_client._base import AsyncRunner, SyncRunner

R = TypeVar("R")
T = TypeVar("T")
P = ParamSpec("P")


@dataclass(frozen=True, slots=True)
class Call(Generic[R]):
    method: str
    path: str
    decode: Callable[[httpx.Response], R]
    body: msgspec.Struct | None = None
    params: Mapping[str, str | int] | None = None
    session: bool = False  # sends via-client-sessionid
    timeout: float | None = None
    # False when the answer itself matters more than a repeat: a lost long-poll answer held
    # events the server will not hand out again, so the event stream recovers them instead.
    repeat_after_loss: bool = True


def model(cls: type[T]) -> Callable[[httpx.Response], T]:
    def decode(response: httpx.Response) -> T:
        try:
            return msgspec.json.decode(response.content, type=cls)
        except msgspec.DecodeError as exc:
            raise DecodingError(f"{response.request.method} {response.request.url.path}: {exc}") from None

    return decode


def no_content(response: httpx.Response) -> None:
    return None


def message_id(response: httpx.Response) -> str:
    """A send's new message id, from the 202's ``x-message-id`` header."""
    return str(response.headers.get("x-message-id", ""))


def sync_op(build: Callable[Concatenate[Any, P], Call[R]]) -> Callable[Concatenate[SyncRunner, P], R]:
    @functools.wraps(build)
    def method(self: SyncRunner, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._run(build(self, *args, **kwargs))

    return method


def async_op(
    build: Callable[Concatenate[Any, P], Call[R]],
) -> Callable[Concatenate[AsyncRunner, P], Coroutine[Any, Any, R]]:
    @functools.wraps(build)
    async def method(self: AsyncRunner, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._run(build(self, *args, **kwargs))

    return method

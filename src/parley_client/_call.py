"""One API operation described without I/O, and how its answer is read.

``Client`` and ``AsyncClient`` share every operation: a builder returns a ``Call``, and
``operation`` makes it a method that runs the call with the client's own I/O loop, so the
same attribute is blocking on a ``Client`` and awaitable on an ``AsyncClient``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Concatenate, Generic, ParamSpec, Self, TypeVar, overload

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


class operation(Generic[P, R]):
    """A ``Call`` builder as a method: ``R`` on a blocking client, an awaitable ``R`` on an asyncio one."""

    def __init__(self, build: Callable[Concatenate[Any, P], Call[R]]) -> None:
        self.build = build
        self.__doc__ = build.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: SyncRunner, owner: type[Any] | None = None) -> Callable[P, R]: ...
    @overload
    def __get__(self, client: AsyncRunner, owner: type[Any] | None = None) -> Callable[P, Coroutine[Any, Any, R]]: ...

    def __get__(self, client: Any, owner: type[Any] | None = None) -> Any:
        if client is None:
            return self
        build = self.build
        if inspect.iscoroutinefunction(client._run):

            async def awaitable(*args: Any, **kwargs: Any) -> Any:
                return await client._run(build(client, *args, **kwargs))

            return functools.wraps(build)(awaitable)

        def blocking(*args: Any, **kwargs: Any) -> Any:
            return client._run(build(client, *args, **kwargs))

        return functools.wraps(build)(blocking)

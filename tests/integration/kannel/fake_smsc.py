"""The handset side of Kannel's fake SMSC (``smsc = fake``), spoken over TCP for tests.

bearerbox listens on the SMSC's ``port`` and talks to one client at a time in lines:

- MO, client to Kannel: ``<from> <to> text <raw text>`` or ``<from> <to> data <url-encoded>``
  (Kannel marks the latter 8-bit), or ``<from> <to> udh <url-encoded UDH> <url-encoded data>``.
- MT, Kannel to client: ``<from> <to> text <raw UTF-8 text>`` for GSM-7,
  ``<from> <to> ucs-2 <url-encoded UTF-16BE>``, ``<from> <to> data <url-encoded bytes>``,
  or ``<from> <to> udh <url-encoded UDH> data <url-encoded payload>`` when there is a UDH;
  that last form does not say the coding (the payload is UTF-8 for GSM-7, UTF-16BE for UCS-2).

URL encoding is Kannel's: ``+`` for a space. A raw GSM-7 MT containing a line break arrives as
two lines, which the protocol cannot tell apart from two messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Literal
from urllib.parse import quote_from_bytes, unquote_to_bytes

from parley.adapters.channels.kannel.config import HOST
from parley.domain.sms import SmsEncoding

MtKind = Literal["text", "ucs-2", "data", "udh"]


@dataclass(frozen=True, slots=True)
class Concatenation:
    reference: int
    total: int
    part: int


@dataclass(frozen=True, slots=True)
class FakeMt:
    """One MT as the fake SMSC received it; ``payload`` holds the decoded bytes."""

    sender: str
    receiver: str
    kind: MtKind
    payload: bytes
    udh: bytes | None = None

    def text(self, encoding: SmsEncoding | None = None) -> str:
        """The payload as text; ``data`` and ``udh`` lines need the ``encoding`` they were sent in."""
        if encoding is None:
            if self.kind not in ("text", "ucs-2"):
                raise ValueError(f"a {self.kind} MT does not say its coding: pass the encoding")
            encoding = SmsEncoding.UCS2 if self.kind == "ucs-2" else SmsEncoding.GSM7
        return self.payload.decode("utf-16-be" if encoding is SmsEncoding.UCS2 else "utf-8")

    @property
    def concatenation(self) -> Concatenation | None:
        """The concatenation information element of the UDH (8- or 16-bit reference), if any."""
        udh = self.udh or b""
        index = 1
        while index + 1 < len(udh):
            element, length = udh[index], udh[index + 1]
            body = udh[index + 2 : index + 2 + length]
            if element == 0x00 and length == 3:
                return Concatenation(body[0], body[1], body[2])
            if element == 0x08 and length == 4:
                return Concatenation(int.from_bytes(body[:2], "big"), body[2], body[3])
            index += 2 + length
        return None


def parse_mt_line(line: bytes) -> FakeMt:
    fields = line.rstrip(b"\r\n").split(b" ", 3)
    if len(fields) != 4:
        raise ValueError(f"not a fake SMSC MT line: {line!r}")
    sender, receiver, kind, rest = fields[0].decode(), fields[1].decode(), fields[2], fields[3]
    if kind == b"text":
        return FakeMt(sender, receiver, "text", rest)
    if kind == b"ucs-2":
        return FakeMt(sender, receiver, "ucs-2", _unquote(rest))
    if kind == b"data":
        return FakeMt(sender, receiver, "data", _unquote(rest))
    udh, _, tail = rest.partition(b" ")
    marker, _, data = tail.partition(b" ")
    if kind != b"udh" or marker != b"data":
        raise ValueError(f"not a fake SMSC MT line: {line!r}")
    return FakeMt(sender, receiver, "udh", _unquote(data), _unquote(udh))


def _unquote(value: bytes) -> bytes:
    return unquote_to_bytes(value.replace(b"+", b" "))


def _quote(value: bytes) -> str:
    return quote_from_bytes(value, safe="")


class FakeSmscClient:
    """Connect with ``await FakeSmscClient.connect(port)``; close with ``close`` or ``async with``."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def connect(cls, port: int, *, timeout: float = 10.0) -> FakeSmscClient:
        """Retries until bearerbox opens the SMSC port, which it does shortly after starting."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader, writer = await asyncio.open_connection(HOST, port)
                return cls(reader, writer)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)

    async def send_mo(self, sender: str, receiver: str, text: str) -> None:
        """Inject a handset's SMS; text with a line break goes as url-encoded 8-bit data."""
        if "\n" in text or "\r" in text:
            await self._write(sender, receiver, f"data {_quote(text.encode())}")
        else:
            await self._write(sender, receiver, f"text {text}")

    async def send_mo_part(self, sender: str, receiver: str, udh: bytes, payload: bytes) -> None:
        """One segment of a concatenated SMS; bearerbox joins the parts before smsbox sees them."""
        await self._write(sender, receiver, f"udh {_quote(udh)} {_quote(payload)}")

    async def read_mt(self, timeout: float = 5.0) -> FakeMt:
        line = await asyncio.wait_for(self._reader.readline(), timeout)
        if not line:
            raise ConnectionError("the fake SMSC connection was closed")
        return parse_mt_line(line)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()

    async def __aenter__(self) -> FakeSmscClient:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.close()

    async def _write(self, sender: str, receiver: str, rest: str) -> None:
        if " " in sender or " " in receiver or not sender or not receiver:
            raise ValueError("fake SMSC addresses cannot be empty or contain spaces")
        self._writer.write(f"{sender} {receiver} {rest}\n".encode())
        await self._writer.drain()

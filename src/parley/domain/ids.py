"""Identifier and secret generation. Secrets are random; only their hashes are stored."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
from time import time_ns
from typing import Final

_POOL_BYTES: Final = 4096
_SUFFIX_DIGITS: Final = 20


class _RandomPool:
    """Bytes from the operating system's CSPRNG, fetched a page at a time.

    ``os.urandom`` releases the GIL, so calling it for every id hands the interpreter to
    whichever thread is waiting once per request; one call per 4 KiB keeps the hot path on its
    thread. Each byte is handed out once, and a forked child starts with an empty pool.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._bytes, self._at = b"", 0
        self._suffixes: list[str] = []

    def take(self, n: int) -> bytes:
        with self._lock:
            if self._at + n > len(self._bytes):
                self._bytes, self._at = os.urandom(max(_POOL_BYTES, n)), 0
            chunk = self._bytes[self._at : self._at + n]
            self._at += n
            return chunk

    def id_suffix(self) -> str:
        """20 random hex digits (80 bits), never handed out twice.

        Without a lock: ``list.pop`` is atomic, so two threads never get the same suffix, and
        two that find the list empty at once each make a new one (the loser's is dropped).
        """
        try:
            return self._suffixes.pop()
        except IndexError:
            digits = os.urandom(_POOL_BYTES).hex()
            suffixes = [
                digits[i : i + _SUFFIX_DIGITS] for i in range(0, len(digits) - _SUFFIX_DIGITS + 1, _SUFFIX_DIGITS)
            ]
            suffix = suffixes.pop()
            self._suffixes = suffixes
            return suffix


_random: Final = _RandomPool()


class _Stamp:
    """The current millisecond as 12 hex digits, formatted once per millisecond."""

    def __init__(self) -> None:
        self.last: tuple[int, str] = (-1, "")  # one assignment, so threads never see half of it

    def now(self) -> str:
        millis = time_ns() // 1_000_000
        last = self.last
        if millis == last[0]:
            return last[1]
        digits = "%012x" % (millis & 0xFFFF_FFFF_FFFF)
        self.last = (millis, digits)
        return digits


_stamp: Final = _Stamp()


def new_id(prefix: str) -> str:
    """A unique id with a readable prefix, e.g. ``msg_019d0f3c...``: 48 bits of milliseconds
    then 80 random bits, as 32 hex digits. Ids made later sort later (to the millisecond), so
    rows keyed by them are appended to their index rather than scattered across it."""
    return f"{prefix}_{_stamp.now()}{_random.id_suffix()}"


def new_secret(prefix: str) -> str:
    """A 256-bit random secret with a prefix that tells what it is when found in a log."""
    return f"{prefix}_{base64.urlsafe_b64encode(_random.take(32)).rstrip(b'=').decode()}"


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret.

    Every secret Parley hashes is 256 random bits it generated itself, so a fast digest is
    the right tool (a slow password hash adds nothing against brute force of 2**256 and
    would make every lookup slow); see docs/security.md.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)

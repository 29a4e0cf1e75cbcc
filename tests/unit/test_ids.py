"""Identifiers and secrets: readable prefixes, randomness, and hashes that are all we store."""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time

from parley.domain.ids import hash_secret, new_id, new_secret, secret_matches


def test_an_id_is_its_prefix_and_32_hex_digits() -> None:
    assert re.fullmatch(r"msg_[0-9a-f]{32}", new_id("msg"))


def test_ids_do_not_repeat() -> None:
    assert len({new_id("int") for _ in range(10_000)}) == 10_000


def test_ids_made_by_many_threads_at_once_do_not_repeat() -> None:
    # 8 x 2,000 ids cross dozens of refills of the pool, some of them at the same moment
    made: list[list[str]] = [[] for _ in range(8)]

    def make(into: list[str]) -> None:
        into.extend(new_id("evt") for _ in range(2000))

    threads = [threading.Thread(target=make, args=(into,)) for into in made]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in made for i in ids]
    assert len(set(every)) == len(every) == 16_000
    assert all(re.fullmatch(r"evt_[0-9a-f]{32}", i) for i in every)


def test_ids_made_in_a_later_millisecond_sort_later() -> None:
    first = new_id("msg")
    time.sleep(0.002)
    assert new_id("msg") > first


def test_secrets_do_not_repeat() -> None:
    assert len({new_secret("pat") for _ in range(1000)}) == 1000


def test_a_secret_carries_256_random_bits_after_its_prefix() -> None:
    secret = new_secret("pak")
    assert re.fullmatch(r"pak_[A-Za-z0-9_-]{43}", secret)
    assert secret != new_secret("pak")


def test_the_stored_hash_is_the_sha256_of_the_secret() -> None:
    assert hash_secret("pak_abc") == hashlib.sha256(b"pak_abc").hexdigest()


def test_a_secret_matches_only_its_own_hash() -> None:
    secret = new_secret("pcs")
    stored = hash_secret(secret)
    assert secret_matches(secret, stored)
    assert not secret_matches(secret + "x", stored)
    assert not secret_matches(secret, stored.upper())


def test_a_forked_child_does_not_hand_out_the_parents_random_bytes() -> None:
    new_id("msg")  # the pool is filled before the fork
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(writer, new_id("msg").encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(reader, 100).decode()
    os.close(reader)
    os.close(writer)
    assert from_child[-20:] != new_id("msg")[-20:]

"""Readiness names the dependency that does not answer in time, and a stopping server is never ready."""

from __future__ import annotations

import asyncio
import time

from parley.service.health import Health


async def answers() -> None:
    pass


async def hangs() -> None:
    await asyncio.sleep(60)


async def fails() -> None:
    raise ConnectionError("refused")


async def test_a_storage_that_hangs_is_named_after_the_bound() -> None:
    started = time.monotonic()
    readiness = await Health({"storage": hangs, "events": answers}, lambda: False, bound=0.05).readiness()
    assert time.monotonic() - started < 0.5
    assert (readiness.ready, readiness.status) == (False, "unavailable")
    assert readiness.checks == {"storage": "timeout", "events": "ok"}


async def test_a_failing_engine_is_named() -> None:
    readiness = await Health({"storage": answers, "events": fails}, lambda: False).readiness()
    assert readiness.checks == {"storage": "ok", "events": "error"}


async def test_a_stopping_server_is_not_ready_even_with_every_check_ok() -> None:
    readiness = await Health({"storage": answers, "events": answers}, lambda: True).readiness()
    assert (readiness.ready, readiness.status) == (False, "stopping")

"""Stopping background work: the work stops, and the caller's own cancellation is never swallowed."""

from __future__ import annotations

import asyncio

import pytest

from parley_client._tasks import cancel_and_wait


async def test_the_cancelled_work_has_finished_when_it_returns() -> None:
    work = asyncio.create_task(asyncio.sleep(60))
    await asyncio.sleep(0)
    await cancel_and_wait(work)
    assert work.cancelled()


async def test_an_error_of_the_work_is_not_raised_to_the_caller() -> None:
    async def failing() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            raise RuntimeError("cleanup failed")

    work = asyncio.create_task(failing())
    await asyncio.sleep(0)
    await cancel_and_wait(work)
    assert isinstance(work.exception(), RuntimeError)


async def test_a_caller_cancelled_while_waiting_is_still_cancelled() -> None:
    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.shield(asyncio.sleep(0.2))

    work = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    caller = asyncio.create_task(cancel_and_wait(work))
    await asyncio.sleep(0.05)
    caller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.sleep(0.3)
    assert work.done()

"""A stopping server never waits forever on a connection that will not close."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import subprocess
import sys

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from parley import bootstrap
from parley.adapters.bus.redis_wakeups import close_within
from tests.clock import FakeClock
from tests.unit.world import build_parley


async def test_a_close_that_never_finishes_is_abandoned_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    never = asyncio.get_running_loop().create_future()
    with caplog.at_level(logging.WARNING):
        await asyncio.wait_for(close_within(never, "the pub/sub connection", seconds=0.05), 2)
    assert never.cancelled()
    assert "closing the pub/sub connection took over" in caplog.text


async def test_a_close_that_fails_is_reported_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def failing() -> None:
        raise RedisConnectionError("connection reset")

    with caplog.at_level(logging.WARNING):
        await close_within(failing(), "the Redis connections")
    assert "closing the Redis connections failed (connection reset)" in caplog.text


async def test_a_close_that_finishes_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    done: list[bool] = []

    async def closing() -> None:
        await asyncio.sleep(0)
        done.append(True)

    with caplog.at_level(logging.WARNING):
        await close_within(closing(), "the pub/sub connection")
    assert done == [True]
    assert caplog.text == ""


async def test_a_slow_stop_step_is_named_and_still_awaited(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "SLOW_STOP_SECONDS", 0.01)
    done: list[bool] = []

    async def slow() -> None:
        await asyncio.sleep(0.1)
        done.append(True)

    with caplog.at_level(logging.WARNING):
        await bootstrap._stop_step("the store", slow())
    assert done == [True]
    assert "stopping: the store is taking longer than" in caplog.text


def test_a_server_whose_stop_hangs_exits_with_every_threads_stack() -> None:
    program = (
        "import asyncio, time, parley.cli as cli\n"
        "cli.STOP_LIMIT_SECONDS = 1\n"
        "asyncio.run(cli._exit_if_stop_hangs())\n"
        "time.sleep(30)\n"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 1
    assert "most recent call first" in done.stderr
    assert 'File "<string>", line 4' in done.stderr  # the thread that still ran, where it was


async def test_the_timers_stop_even_when_a_step_swallows_their_cancellation(monkeypatch: pytest.MonkeyPatch) -> None:
    parley = build_parley(FakeClock())
    in_step = asyncio.Event()

    async def step_that_swallows_cancellation() -> None:
        in_step.set()
        with contextlib.suppress(asyncio.CancelledError):  # as a library awaited in a step may do
            await asyncio.sleep(10)

    monkeypatch.setattr(parley, "tick", step_that_swallows_cancellation)
    await parley.start(run_timers=True)
    await asyncio.wait_for(in_step.wait(), 2)
    stopping = asyncio.ensure_future(parley.stop())
    done, _ = await asyncio.wait({stopping}, timeout=2)
    assert stopping in done, "the stop still waits for the timers"
    stopping.result()

"""Stopping background work without swallowing the caller's own cancellation."""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has finished, whatever it raised.

    If the caller is itself cancelled meanwhile (Ctrl-C, a timeout around it), that cancellation
    goes on up: suppressing it would leave the caller running as if nothing had been asked.
    """
    task.cancel()
    try:
        await task
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise

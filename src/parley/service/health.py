"""Readiness (contract 13): does every dependency answer, within a bound an operator can wait on."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Final

log: Final = logging.getLogger("parley.health")

CHECK_SECONDS: Final = 1.0

Check = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    status: str  # "ready", "unavailable" or "stopping"
    checks: dict[str, str]  # check name -> "ok", "timeout" or "error"


class Health:
    def __init__(self, checks: Mapping[str, Check], stopping: Callable[[], bool], bound: float = CHECK_SECONDS) -> None:
        self.checks = dict(checks)
        self.stopping = stopping
        self.bound = bound

    async def readiness(self) -> Readiness:
        """Every check run at once, each given ``bound`` seconds; a stopping server is never ready."""
        names = list(self.checks)
        results = await asyncio.gather(*(self._run(name) for name in names))
        checks = dict(zip(names, results, strict=True))
        if self.stopping():
            return Readiness(False, "stopping", checks)
        ready = all(result == "ok" for result in results)
        return Readiness(ready, "ready" if ready else "unavailable", checks)

    async def _run(self, name: str) -> str:
        try:
            await asyncio.wait_for(self.checks[name](), self.bound)
        except TimeoutError:
            log.warning("readiness: %s did not answer within %.0f s", name, self.bound)
            return "timeout"
        except Exception as exc:
            log.warning("readiness: %s failed: %s", name, exc)
            return "error"
        return "ok"

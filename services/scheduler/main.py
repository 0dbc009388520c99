"""Composition root of the scheduler service: durable timers."""

from __future__ import annotations

import asyncio

import structlog

from levante.process import Shared
from levante.scheduler.timers import TimerPump

log = structlog.get_logger(__name__)


class SchedulerService:
    """Delivers the engine's timers (wait-before/after, retry delays, timeouts)."""

    grpc_services: tuple[str, ...] = ()

    def __init__(self, shared: Shared) -> None:
        self._pump = TimerPump(shared.database, shared.jetstream)
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._pump.run(self._stop), name="scheduler-timers")
        log.info("scheduler started")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
        log.info("scheduler stopped", timers_delivered=self._pump.delivered)

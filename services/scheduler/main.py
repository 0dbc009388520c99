"""Composition root of the scheduler service.

The scheduler will own durable timers, cron triggers, execution expiration
and recovery of stuck work. This version joins the process, the broker and
the health checks; it schedules nothing yet, as no workflow feature of this
version needs a timer.
"""

from __future__ import annotations

import structlog

from levante.process import Shared

log = structlog.get_logger(__name__)


class SchedulerService:
    """The scheduler's life cycle."""

    grpc_services: tuple[str, ...] = ()

    def __init__(self, shared: Shared) -> None:
        self._shared = shared

    async def start(self) -> None:
        log.info("scheduler started (no timers in this version)")

    async def stop(self) -> None:
        log.info("scheduler stopped")

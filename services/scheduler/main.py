"""Composition root of the scheduler service: durable timers, cron, expiration, recovery,
and the notifier (Mistral's `notify` params)."""

from __future__ import annotations

import asyncio
import os

import structlog

from levante.actions import ALLOWED_HOSTS_VARIABLE, NetworkPolicy
from levante.process import Shared
from levante.recovery_rules import RecoveryTiming
from levante.scheduler.cron import CronFirer
from levante.scheduler.expiration import ExpirationPolicy, Expirer
from levante.scheduler.notifier import Notifier
from levante.scheduler.recovery import Recovery
from levante.scheduler.timers import TimerPump

log = structlog.get_logger(__name__)


class SchedulerService:
    """Delivers the engine's timers (wait-before/after, retry delays, timeouts), fires
    cron triggers, expires old executions, and sends executions' notifications."""

    grpc_services: tuple[str, ...] = ()

    def __init__(self, shared: Shared) -> None:
        self._pump = TimerPump(shared.database, shared.jetstream)
        self._cron = CronFirer(shared.database, shared.jetstream)
        self._expirer = Expirer(shared.database, ExpirationPolicy.from_env(os.environ))
        self._recovery = Recovery(
            shared.database,
            shared.jetstream,
            timing=RecoveryTiming.from_env(os.environ),
        )
        self._notifier = Notifier(
            shared.database,
            shared.nats,
            shared.jetstream,
            network=NetworkPolicy.parse(os.environ.get(ALLOWED_HOSTS_VARIABLE)),
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        await self._notifier.prepare()  # before the api takes requests (run() retries)
        self._tasks = [
            asyncio.create_task(self._pump.run(self._stop), name="scheduler-timers"),
            asyncio.create_task(self._cron.run(self._stop), name="scheduler-cron"),
            asyncio.create_task(self._expirer.run(self._stop), name="scheduler-expiration"),
            asyncio.create_task(self._recovery.run(self._stop), name="scheduler-recovery"),
            asyncio.create_task(self._notifier.run(self._stop), name="scheduler-notifier"),
        ]
        log.info("scheduler started")

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)
        log.info(
            "scheduler stopped",
            timers_delivered=self._pump.delivered,
            cron_fired=self._cron.fired,
            executions_expired=self._expirer.deleted,
            recovered_actions=self._recovery.counters.recovered_actions,
            failed_lost_actions=self._recovery.counters.failed_actions,
            redelivered_timers=self._recovery.counters.redelivered_timers,
            notifications_sent=self._notifier.sent,
            notifications_failed=self._notifier.failed,
        )

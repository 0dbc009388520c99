"""Composition root of the executor service."""

from __future__ import annotations

import asyncio
import os

import structlog

from levante.actions import ActionCatalogue
from levante.executor.intake import WorkIntake
from levante.executor.settings import ExecutorSettings
from levante.executor.worker import ACK_WAIT_SECONDS, Executor
from levante.messaging import jetstream
from levante.process import Shared

log = structlog.get_logger(__name__)


class ExecutorService:
    """Runs actions for one executor target (`default` unless configured)."""

    grpc_services: tuple[str, ...] = ()

    def __init__(
        self,
        shared: Shared,
        *,
        target: str | None = None,
        settings: ExecutorSettings | None = None,
        catalogue: ActionCatalogue | None = None,
    ) -> None:
        self._shared = shared
        self._target = target
        self._settings = settings or ExecutorSettings.from_env(os.environ)
        self._catalogue = catalogue or ActionCatalogue.from_env(
            os.environ, threads=self._settings.threads
        )
        public_url = self._settings.public_url or f"http://127.0.0.1:{shared.settings.rest_port}/v2"
        self._executor = Executor(
            shared.jetstream,
            self._catalogue,
            concurrency=self._settings.concurrency,
            grace_seconds=self._settings.grace_seconds,
            public_url=public_url,
        )
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._intake: WorkIntake | None = None

    async def start(self) -> None:
        """Creates the target's durable consumer if needed and starts taking work."""
        durable = jetstream.executor_consumer(self._target)
        await jetstream.ensure_consumer(
            self._shared.jetstream,
            stream=jetstream.WORK_STREAM,
            durable=durable,
            subject=jetstream.work_filter(self._target),
            ack_wait=ACK_WAIT_SECONDS,
        )
        self._intake = WorkIntake(self._shared.nats, stream=jetstream.WORK_STREAM, durable=durable)
        await self._intake.start()
        self._task = asyncio.create_task(self._executor.run(self._intake, self._stop))
        log.info(
            "executor started",
            target=self._target or jetstream.DEFAULT_TARGET,
            actions=len(self._catalogue),
            concurrency=self._settings.concurrency,
            threads=self._settings.threads,
        )

    async def stop(self) -> None:
        """Graceful drain: take no new work, finish and report what is running."""
        self._stop.set()
        try:
            if self._task is not None:
                await self._task
        finally:
            if self._intake is not None:
                await self._intake.stop()
            self._catalogue.close()
            log.info("executor stopped")

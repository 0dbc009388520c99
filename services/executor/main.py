"""Composition root of the executor service."""

from __future__ import annotations

import asyncio

import structlog

from levante.executor.worker import ACK_WAIT_SECONDS, Executor
from levante.messaging import jetstream
from levante.process import Shared

log = structlog.get_logger(__name__)


class ExecutorService:
    """Runs actions for one executor target (`default` unless configured)."""

    grpc_services: tuple[str, ...] = ()

    def __init__(self, shared: Shared, *, target: str | None = None, concurrency: int = 64) -> None:
        self._shared = shared
        self._target = target
        self._executor = Executor(shared.jetstream, concurrency=concurrency)
        self._concurrency = concurrency
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._consumer: jetstream.PullConsumer | None = None

    async def start(self) -> None:
        durable = jetstream.executor_consumer(self._target)
        await jetstream.ensure_consumer(
            self._shared.jetstream,
            stream=jetstream.WORK_STREAM,
            durable=durable,
            subject=jetstream.work_subject(self._target),
            ack_wait=ACK_WAIT_SECONDS,
        )
        self._consumer = jetstream.PullConsumer(
            self._shared.nats,
            stream=jetstream.WORK_STREAM,
            durable=durable,
            credit=self._concurrency,
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._executor.run(self._consumer, self._stop))
        log.info("executor started", target=self._target or jetstream.DEFAULT_TARGET)

    async def stop(self) -> None:
        """Graceful drain: take no new work, finish and report what is running."""
        self._stop.set()
        if self._task is not None:
            await self._task
        if self._consumer is not None:
            await self._consumer.stop()
        log.info("executor stopped")

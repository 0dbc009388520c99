"""One per process: samples what no single service counts, and serves /metrics without REST.

- Queue depth: every JetStream consumer of the work and engine-event
  streams (pending, waiting for an ack, redelivered), every few seconds.
- Executions by state (`levante_workflow_executions{state}`), from the
  database, in processes that run the api (one answer for the cluster).
- LEVANTE_METRICS_PORT: a small HTTP server with GET /metrics on the bind
  host, for processes without the REST face (engine, executor, scheduler
  run apart). Off unless set; the REST port serves /metrics anyway.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from aiohttp import web
from prometheus_client import Gauge
from sqlalchemy import func, select

from levante import metrics
from levante.errors import UnavailableError
from levante.messaging import jetstream
from levante.persistence import models
from levante.process import Shared

log = structlog.get_logger(__name__)

QUEUE_PENDING = Gauge(
    "levante_queue_pending_messages",
    "Messages a JetStream consumer has not delivered yet (the backlog).",
    ["stream", "consumer"],
)
QUEUE_ACK_PENDING = Gauge(
    "levante_queue_ack_pending_messages",
    "Messages delivered to a consumer and not acked yet (in flight).",
    ["stream", "consumer"],
)
QUEUE_REDELIVERED = Gauge(
    "levante_queue_redelivered_messages",
    "Messages in flight that were delivered more than once.",
    ["stream", "consumer"],
)
EXECUTIONS = Gauge(
    "levante_workflow_executions",
    "Workflow executions in the database, by state (sampled where the api runs).",
    ["state"],
)

#: Seconds between two samples.
SAMPLE_INTERVAL = 10.0
_STREAMS = (jetstream.WORK_STREAM, jetstream.EVENTS_STREAM)


class MetricsService:
    """Samples queues and executions, and serves /metrics on `port` when given."""

    grpc_services: tuple[str, ...] = ()

    def __init__(self, shared: Shared, *, interval: float = SAMPLE_INTERVAL) -> None:
        self._shared = shared
        self._interval = interval
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._runner: web.AppRunner | None = None
        self._known_states: set[str] = set()

    async def start(self) -> None:
        settings = self._shared.settings
        port = settings.metrics_port
        if port is not None:
            app = web.Application()
            app.router.add_get("/metrics", self._metrics)
            self._runner = web.AppRunner(app, access_log=None)
            await self._runner.setup()
            try:
                site = web.TCPSite(self._runner, settings.bind_host, port, reuse_address=True)
                await site.start()
            except OSError as error:
                raise UnavailableError(
                    f"cannot serve metrics on {settings.bind_host}:{port}: "
                    f"{error.strerror or error} (LEVANTE_METRICS_PORT)"
                ) from error
            log.info("metrics served", url=f"http://{settings.bind_host}:{port}/metrics")
        self._task = asyncio.create_task(self._sample_forever(), name="metrics-sampler")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
        if self._runner is not None:
            await self._runner.cleanup()

    async def sample(self) -> None:
        """Takes one sample of the queues (and of the executions where the api runs)."""
        await self._sample_queues()
        if "api" in self._shared.services:
            counts = await asyncio.to_thread(self._count_executions)
            for state in self._known_states - counts.keys():
                EXECUTIONS.labels(state=state).set(0)
            for state, count in counts.items():
                EXECUTIONS.labels(state=state).set(count)
            self._known_states |= counts.keys()

    async def _sample_forever(self) -> None:
        while not self._stop.is_set():
            try:
                await self.sample()
            except Exception as error:  # the broker or database is away: try next time
                log.debug("metrics sample failed", error=str(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval)

    async def _sample_queues(self) -> None:
        js = self._shared.jetstream
        for stream in _STREAMS:
            for info in await js.consumers_info(stream):
                labels = {"stream": stream, "consumer": info.name or ""}
                QUEUE_PENDING.labels(**labels).set(info.num_pending or 0)
                QUEUE_ACK_PENDING.labels(**labels).set(info.num_ack_pending or 0)
                QUEUE_REDELIVERED.labels(**labels).set(info.num_redelivered or 0)

    async def _metrics(self, request: web.Request) -> web.Response:
        # A scrape of this port gets fresh samples; the REST port's /metrics
        # shows the last periodic one.
        try:
            await self.sample()
        except Exception as error:
            log.debug("metrics sample failed", error=str(error))
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    def _count_executions(self) -> dict[str, int]:
        table = models.WorkflowExecution
        with self._shared.database.read() as session:
            rows = session.execute(select(table.state, func.count()).group_by(table.state)).all()
        return {str(state): int(count) for state, count in rows}

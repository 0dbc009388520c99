"""Composition root of the engine service."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import structlog
from nats.aio.msg import Msg

from levante.engine.runtime import EngineRuntime
from levante.health import DATABASE, NATS, DependencyMonitor
from levante.internal.v1 import engine_pb2, engine_pb2_grpc
from levante.messaging import jetstream
from levante.messaging.outbox import OutboxRelay
from levante.process import Shared

log = structlog.get_logger(__name__)

ACK_WAIT_SECONDS = 30.0


class EngineServicer(engine_pb2_grpc.EngineServiceServicer):
    """levante.internal.v1.EngineService."""

    def __init__(self, runtime: EngineRuntime) -> None:
        self._runtime = runtime

    async def StartExecution(
        self, request: engine_pb2.StartExecutionRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.StartExecutionResponse:
        execution_id = await self._runtime.start_execution(request)
        return engine_pb2.StartExecutionResponse(execution_id=execution_id)

    async def StartAction(
        self, request: engine_pb2.StartActionRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.StartActionResponse:
        action_id = await self._runtime.start_action(request)
        return engine_pb2.StartActionResponse(action_execution_id=action_id)

    async def CompleteAction(
        self, request: engine_pb2.CompleteActionRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.CompleteActionResponse:
        state = await self._runtime.complete_action(request)
        return engine_pb2.CompleteActionResponse(state=state)

    async def RerunTask(
        self, request: engine_pb2.RerunTaskRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.RerunTaskResponse:
        state = await self._runtime.rerun_task(request)
        return engine_pb2.RerunTaskResponse(state=state)

    async def UpdateExecutionState(
        self, request: engine_pb2.UpdateExecutionStateRequest, context: grpc.aio.ServicerContext
    ) -> engine_pb2.UpdateExecutionStateResponse:
        state = await self._runtime.update_execution_state(request)
        return engine_pb2.UpdateExecutionStateResponse(state=state)


class _WhileAvailable:
    """The event consumer, taking nothing while the database or the broker is away.

    Events then wait in the stream (or, if already pulled, in hand) instead of
    failing to apply and being nak'ed again every second; taking resumes when
    the dependency monitor sees both answer.
    """

    def __init__(self, consumer: jetstream.PullConsumer, dependencies: DependencyMonitor | None):
        self._consumer = consumer
        self._dependencies = dependencies

    async def next_batch(self, *, max_messages: int, timeout: float) -> list[Msg]:
        if self._dependencies is not None and not await self._dependencies.wait_available(
            DATABASE, NATS, timeout=timeout
        ):
            return []
        return await self._consumer.next_batch(max_messages=max_messages, timeout=timeout)

    async def done(self, count: int = 1) -> None:
        await self._consumer.done(count)


class EngineService:
    """Consumes engine events, serves StartExecution, relays the outbox."""

    grpc_services = (engine_pb2.DESCRIPTOR.services_by_name["EngineService"].full_name,)

    def __init__(self, shared: Shared) -> None:
        self._shared = shared
        self._relay = OutboxRelay(shared.database, shared.jetstream, shared.nats)
        self.runtime = EngineRuntime(shared.database, self._relay)
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self._consumer: jetstream.PullConsumer | None = None
        engine_pb2_grpc.add_EngineServiceServicer_to_server(
            EngineServicer(self.runtime), shared.grpc_server
        )

    async def start(self) -> None:
        js = self._shared.jetstream
        await jetstream.ensure_consumer(
            js,
            stream=jetstream.EVENTS_STREAM,
            durable=jetstream.ENGINE_CONSUMER,
            subject=jetstream.ENGINE_EVENTS_SUBJECT,
            ack_wait=ACK_WAIT_SECONDS,
        )
        self._consumer = jetstream.PullConsumer(
            self._shared.nats,
            stream=jetstream.EVENTS_STREAM,
            durable=jetstream.ENGINE_CONSUMER,
            credit=512,
        )
        await self._consumer.start()
        events = _WhileAvailable(self._consumer, self._shared.dependencies)
        self._tasks = [
            asyncio.create_task(self.runtime.run(events, self._stop), name="engine-events"),
            asyncio.create_task(self._relay.run(self._stop), name="engine-outbox"),
        ]
        log.info("engine started")

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        released = 0
        if self._consumer is not None:
            # Events pulled but not applied go back now, not after ack_wait:
            # another engine applies them at once.
            released = await self._consumer.drain()
        log.info("engine stopped", events_released=released)

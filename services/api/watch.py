"""Watching an execution: its state changes as a stream, over gRPC and Server-Sent Events.

`ExecutionWatcher.watch` reads the JetStream stream LEVANTE_EXECUTION_EVENTS
with an ordered (ephemeral, in-order, self-healing) consumer filtered on the
execution's tree, keeps the events of the execution and its descendants, and
ends after the execution's own final event. `ExecutionEventsServicer` serves
it as `levante.v2.ExecutionEventsService.WatchExecution`; the REST face
serves the same iterator as `GET /v2/executions/{id}/events` (rest_extras).

No event between the lookup and the subscription is lost: the stream's last
sequence is read *before* the execution is looked up, and a watch without
replay starts right after it. The engine publishes an event only after the
change committed, so anything at or below that sequence is already in the
database state the lookup saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import structlog
from grpc_status import rpc_status
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy
from prometheus_client import Gauge

from levante import errors, rpc
from levante.api import identity
from levante.messaging.jetstream import EXECUTION_EVENTS_STREAM, execution_events_filter
from levante.persistence.db import Database
from levante.persistence.trees import ExecutionFamily, load_family
from levante.v2 import event_pb2, event_pb2_grpc

log = structlog.get_logger(__name__)

#: States after which an execution sends no more events (unless rerun).
FINAL_STATES = frozenset({"SUCCESS", "ERROR", "CANCELLED"})

WATCHES = Gauge("levante_execution_watches", "Execution watch streams open (gRPC and SSE).")


def execution_id_of(name: str) -> str:
    """`executions/abc` -> `abc` (a bare id is accepted too); InputError when empty."""
    found = name.removeprefix("executions/")
    if not found or "/" in found:
        raise errors.InputError(
            f"name must be executions/{{id}} [name={name!r}]" if name else "name is required"
        )
    return found


class _Family:
    """Which events belong to the watched execution: itself and its descendants.

    Seeded from the database; a child started later is learned from its
    first event, whose `parent_execution_id` is already a member (events of
    a tree arrive in commit order, and a child is created after its parent).
    """

    def __init__(self, family: ExecutionFamily) -> None:
        self.execution_id = family.execution.id
        self._everything = family.root_id == self.execution_id
        self._members = set(family.members)

    def __contains__(self, event: event_pb2.ExecutionEvent) -> bool:
        if self._everything or event.execution_id in self._members:
            return True
        if event.parent_execution_id in self._members:
            self._members.add(event.execution_id)
            return True
        return False

    def is_end(self, event: event_pb2.ExecutionEvent) -> bool:
        """Whether `event` is the watched execution's own move to a final state."""
        return (
            event.entity == event_pb2.EVENT_ENTITY_WORKFLOW_EXECUTION
            and event.entity_id == self.execution_id
            and event.new_state in FINAL_STATES
        )


class ExecutionWatcher:
    """Opens watches of executions on JetStream (see the module docstring)."""

    def __init__(
        self,
        *,
        database: Database,
        jetstream: JetStreamContext,
        stopping: asyncio.Event | None = None,
        settle_seconds: float = 3.0,
    ) -> None:
        self._database = database
        self._js = jetstream
        self._stopping = stopping or asyncio.Event()
        # How long a replay of an already finished execution waits for events
        # still on their way (the outbox publishes just after the commit).
        self._settle = settle_seconds

    async def open(self, execution_id: str, *, replay: bool) -> Watch:
        """Looks the execution up and subscribes; raises NotFoundError for an unknown id.

        With `replay`, the watch starts at the beginning of the stream;
        otherwise right after what the lookup already reflects.
        """
        # Read the stream's position first: see the module docstring.
        try:
            info = await self._js.stream_info(EXECUTION_EVENTS_STREAM)
        except Exception as error:
            raise errors.UnavailableError(f"the event stream is unavailable: {error}") from error
        before = info.state.last_seq
        found = await asyncio.to_thread(
            load_family, self._database, execution_id, project_id=identity.project_id()
        )
        finished = found.execution.state in FINAL_STATES
        watch = Watch(
            self._js,
            _Family(found),
            before=before,
            finished=finished,
            replay=replay,
            stopping=self._stopping,
            settle_seconds=self._settle,
        )
        if finished and not replay:
            return watch  # nothing will come: its events() end at once
        if replay:
            config = ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
        else:
            config = ConsumerConfig(
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=before + 1
            )
        # The server drops the consumer soon after the subscription goes away,
        # even if the explicit delete on close cannot reach it.
        config.inactive_threshold = 30.0
        try:
            watch.subscription = await self._js.subscribe(
                execution_events_filter(found.root_id),
                stream=EXECUTION_EVENTS_STREAM,
                ordered_consumer=True,
                config=config,
            )
        except Exception as error:
            raise errors.UnavailableError(
                f"cannot subscribe to the event stream: {error}"
            ) from error
        WATCHES.inc()
        return watch


class Watch:
    """One open watch: iterate `events()`, then `close()` (or use `async with`)."""

    def __init__(
        self,
        js: JetStreamContext,
        family: _Family,
        *,
        before: int,
        finished: bool,
        replay: bool,
        stopping: asyncio.Event,
        settle_seconds: float,
    ) -> None:
        self._js = js
        self._family = family
        self._before = before
        self._finished = finished
        self._replay = replay
        self._stopping = stopping
        self._settle = settle_seconds
        self.subscription: Any = None

    async def __aenter__(self) -> Watch:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Unsubscribes and deletes the consumer; safe to call twice."""
        subscription, self.subscription = self.subscription, None
        if subscription is None:
            return
        WATCHES.dec()
        try:
            await subscription.unsubscribe()
        except Exception as error:  # the connection is closing: nothing left to stop
            log.debug("watch subscription not closed", error=str(error))
        try:
            info = await subscription.consumer_info()
            await self._js.delete_consumer(EXECUTION_EVENTS_STREAM, info.name)
        except Exception as error:  # gone already, or the inactivity threshold removes it
            log.debug("watch consumer not deleted", error=str(error))

    async def events(
        self, *, tick_seconds: float | None = None
    ) -> AsyncIterator[event_pb2.ExecutionEvent | None]:
        """The events of the execution and its descendants, `sequence` set, in order.

        Ends after the execution's own final event (SUCCESS, ERROR,
        CANCELLED); right away (after the replay) if it had finished before
        the watch opened; when the server stops. Yields None after each
        `tick_seconds` without an event, so a caller can send keep-alives.
        """
        subscription = self.subscription
        if subscription is None:
            return
        family, before, finished = self._family, self._before, self._finished
        last_seen = 0 if self._replay else before
        seen_end = caught_up = False
        last_message = last_tick = time.monotonic()
        while not self._stopping.is_set():
            try:
                message = await subscription.next_msg(timeout=1.0)
            except NatsTimeoutError:
                now = time.monotonic()
                if finished and now - last_message >= self._settle:
                    return  # a finished execution's history is all here (or aged out)
                if tick_seconds is not None and now - max(last_tick, last_message) >= tick_seconds:
                    last_tick = now
                    yield None
                continue
            last_message = time.monotonic()
            metadata = message.metadata
            sequence = metadata.sequence.stream
            caught_up = sequence >= before or metadata.num_pending == 0
            # An ordered consumer that had to be re-created may resend.
            if sequence > last_seen:
                last_seen = sequence
                event = _decode(message)
                if event is not None and event in family:
                    event.sequence = sequence
                    yield event
                    if family.is_end(event):
                        # A final event at or before `before` is from a run since
                        # rerun: the lookup found the execution running again.
                        if not finished and sequence > before:
                            return
                        seen_end = True
            if finished and seen_end and caught_up:
                return


def _decode(message: Any) -> event_pb2.ExecutionEvent | None:
    try:
        return event_pb2.ExecutionEvent.FromString(message.data)
    except Exception:  # a foreign message on our subjects: skip it
        log.warning("undecodable execution event", subject=message.subject)
        return None


class ExecutionEventsServicer(event_pb2_grpc.ExecutionEventsServiceServicer):
    """levante.v2.ExecutionEventsService."""

    def __init__(self, watcher: ExecutionWatcher) -> None:
        self._watcher = watcher

    async def WatchExecution(self, request: Any, context: Any) -> AsyncIterator[Any]:
        # The error interceptor maps unary calls only; a stream maps its own.
        try:
            watch = await self._watcher.open(execution_id_of(request.name), replay=request.replay)
        except errors.LevanteError as error:
            await context.abort_with_status(rpc_status.to_status(rpc.to_status(error)))
            return
        async with watch:
            async for event in watch.events():
                if event is not None:
                    yield event

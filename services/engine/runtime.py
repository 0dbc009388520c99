"""The engine's shell around the pure machine: load, step, persist, emit.

Every change to an execution tree happens in one transaction that first
locks the tree's root (`store.lock_root`), then reads fresh state, applies
the events with `machine.step`, writes the new state and the outbox, and
commits. Only then are the events acked and the outbox published.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from nats.aio.msg import Msg
from sqlalchemy.orm import Session

from levante import metrics, tracing
from levante.engine import actions as direct_actions
from levante.engine import events as execution_events
from levante.engine import sealing, store, workflows
from levante.engine.cache import StateCache
from levante.engine.machine import step
from levante.engine.operations import OperationsMixin
from levante.engine.state import (
    ActionCompleted,
    Command,
    Event,
    ExecutionState,
    NotifyParent,
    RunAction,
    ScheduleTimer,
    Signal,
    StartChild,
    StartExecution,
    changed_tasks,
)
from levante.engine.wire import json_object, machine_event, outgoing_for, timer_row
from levante.errors import LevanteError
from levante.internal.v1 import engine_pb2, messages_pb2
from levante.messaging.jetstream import (
    Outgoing,
    PullConsumer,
)
from levante.messaging.outbox import OutboxRelay, add_to_outbox, delete_from_outbox, utcnow
from levante.persistence import environments, models
from levante.persistence.db import Database
from levante.states import State

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Applied:
    outgoing: list[Outgoing]
    events: int


class EngineRuntime(OperationsMixin):
    """Applies starts and events to executions, one transaction per execution tree."""

    def __init__(
        self,
        database: Database,
        relay: OutboxRelay,
        *,
        clock: Callable[[], datetime] = utcnow,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._db = database
        self._relay = relay
        self._cache = StateCache()
        self._clock = clock
        self._new_id = new_id

    # -- starting executions ------------------------------------------------

    async def start_execution(self, request: engine_pb2.StartExecutionRequest) -> str:
        """Creates and starts an execution; returns its id once committed."""
        execution_id, outgoing = await asyncio.to_thread(self._start, request)
        await self._relay.publish(outgoing)
        return execution_id

    def _start(self, request: engine_pb2.StartExecutionRequest) -> tuple[str, list[Outgoing]]:
        workflow_input = json_object(request.input_json, "input")
        params = json_object(request.params_json, "params")
        custom_context = json_object(request.custom_context_json, "custom_context")
        with self._db.write() as session:
            if request.execution_id:
                if session.get(models.WorkflowExecution, request.execution_id) is not None:
                    return request.execution_id, []
            # The caller's project may start only workflows it can see.
            definition = workflows.resolve(
                session,
                request.workflow_id or request.workflow_name,
                request.workflow_namespace,
                project_id=request.project_id or None,
            )
            spec = store.workflow_spec(definition.definition, definition.name)
            full_input = workflows.check_input(spec, workflow_input)
            workflows.check_params(spec, params)
            now = self._clock()
            execution_id = request.execution_id or self._new_id()
            params = environments.expand_env(
                session, params, request.project_id or definition.project_id
            )
            params.setdefault("namespace", definition.namespace)
            params.setdefault("env", {})
            # Hidden input values are stored sealed, with the tree's list of secrets.
            stored_input, secret_texts = sealing.seal_start(spec, full_input, execution_id)
            session.add(
                models.WorkflowExecution(
                    id=execution_id,
                    workflow_id=definition.id,
                    workflow_name=definition.name,
                    workflow_namespace=definition.namespace,
                    definition=definition.definition,
                    description=request.description,
                    tags=[],
                    params=params,
                    input=stored_input,
                    output={},
                    context={},
                    published_global={},
                    state=str(State.IDLE),
                    state_info=None,
                    task_execution_id=None,
                    root_execution_id=None,
                    scope="private",
                    project_id=request.project_id or definition.project_id,
                    custom_context=custom_context,
                    adhoc_actions=workflows.freeze_adhoc(session, definition, spec),
                    secrets=secret_texts,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            fresh: list[tuple[str, int, ExecutionState]] = []
            applied = self._apply(session, execution_id, [StartExecution()], now, fresh)
        self._cache.put(fresh)
        return execution_id, applied.outgoing

    # -- events -------------------------------------------------------------

    async def run(self, consumer: PullConsumer, stop: asyncio.Event, *, batch: int = 256) -> None:
        """Consumes engine events until `stop` is set, then finishes the batch in hand."""
        while not stop.is_set():
            messages = await consumer.next_batch(max_messages=batch, timeout=0.5)
            if not messages:
                continue
            try:
                await self.handle(messages)
            finally:
                await consumer.done(len(messages))

    async def handle(self, messages: list[Msg]) -> None:
        """Applies a batch of event messages, grouped by execution tree."""
        groups: dict[str, list[tuple[Msg, messages_pb2.EngineEvent]]] = defaultdict(list)
        for msg in messages:
            metrics.record_delivery("engine", msg)
            event = messages_pb2.EngineEvent()
            try:
                event.ParseFromString(msg.data)
            except Exception:
                log.error("dropping an undecodable engine event", subject=msg.subject)
                await msg.term()
                continue
            if event.WhichOneof("event") == "start_execution":
                await self._start_from_event(msg, event.start_execution)
                continue
            groups[event.root_execution_id].append((msg, event))
        for root_id, items in groups.items():
            try:
                # The trace continues from the first event's sender (an executor).
                with (
                    tracing.span(
                        "engine apply events",
                        parent=items[0][0].headers,
                        links=(msg.headers for msg, _ in items[1:]),
                        attributes={
                            "levante.root_execution_id": root_id,
                            "levante.events": len(items),
                        },
                    ),
                    structlog.contextvars.bound_contextvars(root_execution_id=root_id),
                ):
                    outgoing = await asyncio.to_thread(
                        self._apply_events, root_id, [e for _, e in items]
                    )
            except Exception:
                log.exception("applying events failed; they will be redelivered", root=root_id)
                for msg, _ in items:
                    await msg.nak(delay=1)
                continue
            # Acked only now: the transaction that applied them has committed.
            # The work it caused goes out first: it is the next step's latency.
            await asyncio.gather(self._relay.publish(outgoing), *(msg.ack() for msg, _ in items))
            metrics.ENGINE_EVENTS.inc(len(items))

    async def _start_from_event(self, msg: Msg, request: engine_pb2.StartExecutionRequest) -> None:
        """Starts an execution asked for by an event (a cron trigger fired)."""
        try:
            _, outgoing = await asyncio.to_thread(self._start, request)
        except LevanteError as error:
            # The workflow was deleted or its input no longer fits: retrying
            # cannot help, so the request is dropped with the reason logged.
            log.warning(
                "could not start a requested execution",
                error=error.message,
                workflow_id=request.workflow_id,
            )
            await msg.ack()
            return
        except Exception:
            log.exception("starting a requested execution failed; it will be redelivered")
            await msg.nak(delay=1)
            return
        await msg.ack()
        await self._relay.publish(outgoing)

    def _apply_events(self, root_id: str, events: list[messages_pb2.EngineEvent]) -> list[Outgoing]:
        pairs = []
        started: list[str] = []
        for event in events:
            decoded = machine_event(event)
            if decoded is not None:
                pairs.append((event.execution_id, decoded))
            elif event.WhichOneof("event") == "action_result":
                started.append(event.action_result.action_execution_id)  # async, pending
        return self._apply_in_tree(root_id, pairs, accepted=started)

    def _apply_in_tree(
        self, root_id: str, pairs: list[tuple[str, Event]], *, accepted: list[str] = ()
    ) -> list[Outgoing]:
        """Applies (execution id, event) pairs of one tree in one locked transaction.

        An empty execution id marks a direct action run (no workflow).
        `accepted` lists async actions an executor started: they stay RUNNING,
        accepted, until completed through the API.
        """
        by_execution: dict[str, list[Event]] = defaultdict(list)
        for execution_id, event in pairs:
            by_execution[execution_id].append(event)
        outgoing: list[Outgoing] = []
        fresh: list[tuple[str, int, ExecutionState]] = []
        with self._db.write() as session:
            store.lock_root(session, root_id)
            delete_from_outbox(session, self._relay.take_published())
            now = self._clock()
            for action_id in accepted:
                direct_actions.mark_accepted(session, action_id, now)
            for execution_id, machine_events in by_execution.items():
                if not execution_id:
                    for event in machine_events:
                        if isinstance(event, ActionCompleted):
                            direct_actions.complete_direct(session, event, now)
                    continue
                outgoing += self._apply(session, execution_id, machine_events, now, fresh).outgoing
        # Only now, after the commit: a failed transaction must not leave its
        # states in the cache.
        self._cache.put(fresh)
        return outgoing

    def _apply(
        self,
        session: Session,
        execution_id: str,
        events: list[Event],
        now: datetime,
        fresh: list[tuple[str, int, ExecutionState]] | None = None,
    ) -> _Applied:
        """Applies events to an execution, and what they cause inside its tree.

        Starting a sub-workflow and telling a parent that its child finished
        happen in this same transaction (same tree, same lock); only work for
        executors leaves, through the outbox.
        """
        outgoing: list[Outgoing] = []
        announced: list[Outgoing] = []  # state-change events, sent after the work
        timers: list[ScheduleTimer] = []
        queue: deque[tuple[str, list[Event]]] = deque([(execution_id, list(events))])
        while queue:
            current_id, current_events = queue.popleft()
            before = store.load(session, current_id, cache=self._cache)
            if before is None:
                log.warning("event for an unknown execution ignored", execution_id=current_id)
                continue
            state: ExecutionState = before
            commands: list[Command] = []
            for event in current_events:
                outcome = step(state, event, now=now, new_id=self._new_id)
                state = outcome.state
                commands.extend(outcome.commands)
            if state != before:
                # Counted inside the transaction: a batch that fails and is
                # applied again counts twice (only when the database fails).
                changed = changed_tasks(before, state)
                metrics.record_changes(before, state, changed)
                version = store.save(session, before, state, changed)
                if fresh is not None:
                    fresh.append((current_id, version, state))
                announced += execution_events.state_events(
                    before, state, now, self._new_id, changed
                )
            for command in commands:
                if isinstance(command, RunAction):
                    outgoing.append(outgoing_for(command, now))
                elif isinstance(command, StartChild):
                    queue.append(self._start_child(session, command, state, now))
                elif isinstance(command, Signal):
                    queue.append((command.execution_id, [command.event]))
                elif isinstance(command, ScheduleTimer):
                    timers.append(command)
                elif isinstance(command, NotifyParent):
                    queue.append(
                        (
                            command.parent_execution_id,
                            [
                                ActionCompleted(
                                    action_id=command.child_id,
                                    task_id=command.parent_task_id,
                                    failed=command.failed,
                                    result=command.output,
                                    error=command.state_info,
                                )
                            ],
                        )
                    )
        outgoing += announced
        add_to_outbox(session, outgoing, now=now)
        session.add_all(timer_row(timer, now) for timer in timers)
        return _Applied(outgoing, len(events))

    def _start_child(
        self, session: Session, command: StartChild, parent: ExecutionState, now: datetime
    ) -> tuple[str, list[Event]]:
        problem = workflows.create_child(
            session,
            command,
            parent_workflow=parent.workflow_name,
            project_id=parent.project_id,
            now=now,
        )
        if problem is None:
            return command.child_id, [StartExecution()]
        return parent.id, [
            ActionCompleted(
                action_id=command.child_id,
                task_id=command.task_id,
                failed=True,
                result={"result": problem},
                error=problem,
                started=False,
            )
        ]

"""The engine's shell around the pure machine: load, step, persist, emit.

Every change to an execution tree happens in one transaction that first
locks the tree's root (`store.lock_root`), then reads fresh state, applies
the events with `machine.step`, writes the new state and the outbox, and
commits. Only then are the events acked and the outbox published.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.msg import Msg
from sqlalchemy.orm import Session

from levante.engine import actions as direct_actions
from levante.engine import store, workflows
from levante.engine.control import control_event
from levante.engine.machine import step
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
    TimerFired,
)
from levante.errors import FailedPreconditionError, InputError, NotFoundError
from levante.internal.v1 import engine_pb2, messages_pb2
from levante.messaging.jetstream import (
    ENGINE_EVENTS_SUBJECT,
    Outgoing,
    PullConsumer,
    work_subject,
)
from levante.messaging.outbox import OutboxRelay, add_to_outbox, delete_from_outbox, utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.states import State

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class _Applied:
    outgoing: list[Outgoing]
    events: int


class EngineRuntime:
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
        self._clock = clock
        self._new_id = new_id

    # -- starting executions ------------------------------------------------

    async def start_execution(self, request: engine_pb2.StartExecutionRequest) -> str:
        """Creates and starts an execution; returns its id once committed."""
        execution_id, outgoing = await asyncio.to_thread(self._start, request)
        await self._relay.publish(outgoing)
        return execution_id

    def _start(self, request: engine_pb2.StartExecutionRequest) -> tuple[str, list[Outgoing]]:
        workflow_input = _json_object(request.input_json, "input")
        params = _json_object(request.params_json, "params")
        with self._db.write() as session:
            if request.execution_id:
                if session.get(models.WorkflowExecution, request.execution_id) is not None:
                    return request.execution_id, []
            definition = workflows.resolve(
                session, request.workflow_id or request.workflow_name, request.workflow_namespace
            )
            spec = store.workflow_spec(definition.definition, definition.name)
            full_input = workflows.check_input(spec, workflow_input)
            workflows.check_params(spec, params)
            now = self._clock()
            execution_id = request.execution_id or self._new_id()
            params.setdefault("namespace", definition.namespace)
            params.setdefault("env", {})
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
                    input=full_input,
                    output={},
                    context={},
                    published_global={},
                    state=str(State.IDLE),
                    state_info=None,
                    task_execution_id=None,
                    root_execution_id=None,
                    scope="private",
                    project_id=request.project_id or definition.project_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            session.flush()
            applied = self._apply(session, execution_id, [StartExecution()], now)
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
            event = messages_pb2.EngineEvent()
            try:
                event.ParseFromString(msg.data)
            except Exception:
                log.error("dropping an undecodable engine event", subject=msg.subject)
                await msg.term()
                continue
            groups[event.root_execution_id].append((msg, event))
        for root_id, items in groups.items():
            try:
                outgoing = await asyncio.to_thread(
                    self._apply_events, root_id, [e for _, e in items]
                )
            except Exception:
                log.exception("applying events failed; they will be redelivered", root=root_id)
                for msg, _ in items:
                    await msg.nak(delay=1)
                continue
            # Acked only now: the transaction that applied them has committed.
            await asyncio.gather(*(msg.ack() for msg, _ in items))
            await self._relay.publish(outgoing)

    def _apply_events(self, root_id: str, events: list[messages_pb2.EngineEvent]) -> list[Outgoing]:
        pairs = []
        for event in events:
            machine_event = _machine_event(event)
            if machine_event is not None:
                pairs.append((event.execution_id, machine_event))
        return self._apply_in_tree(root_id, pairs)

    def _apply_in_tree(self, root_id: str, pairs: list[tuple[str, Event]]) -> list[Outgoing]:
        """Applies (execution id, event) pairs of one tree in one locked transaction.

        An empty execution id marks a direct action run (no workflow).
        """
        by_execution: dict[str, list[Event]] = defaultdict(list)
        for execution_id, event in pairs:
            by_execution[execution_id].append(event)
        outgoing: list[Outgoing] = []
        with self._db.write() as session:
            store.lock_root(session, root_id)
            delete_from_outbox(session, self._relay.take_published())
            now = self._clock()
            for execution_id, machine_events in by_execution.items():
                if not execution_id:
                    for event in machine_events:
                        if isinstance(event, ActionCompleted):
                            direct_actions.complete_direct(session, event, now)
                    continue
                outgoing += self._apply(session, execution_id, machine_events, now).outgoing
        return outgoing

    # -- user control -------------------------------------------------------

    async def update_execution_state(self, request: engine_pb2.UpdateExecutionStateRequest) -> str:
        """Pauses, resumes or stops an execution, or updates its env; returns its state."""
        state, outgoing = await asyncio.to_thread(self._update_execution_state, request)
        await self._relay.publish(outgoing)
        return state

    def _update_execution_state(
        self, request: engine_pb2.UpdateExecutionStateRequest
    ) -> tuple[str, list[Outgoing]]:
        env = _json_object(request.env_json, "env")
        with self._db.read() as session:
            row = session.get(models.WorkflowExecution, request.execution_id)
            if row is None:
                raise NotFoundError(f"WorkflowExecution not found [id={request.execution_id}]")
            root_id = row.root_execution_id or row.id
        if not request.state:
            return self._update_env(request.execution_id, env), []
        event = control_event(request.state, request.state_info or None, env)
        outgoing = self._apply_in_tree(root_id, [(request.execution_id, event)])
        with self._db.read() as session:
            return session.get(models.WorkflowExecution, request.execution_id).state, outgoing

    def _update_env(self, execution_id: str, env: dict[str, Any]) -> str:
        with self._db.write() as session:
            row = session.get(models.WorkflowExecution, execution_id)
            if row.state in (State.RUNNING, State.IDLE):
                raise FailedPreconditionError(
                    f"The env of execution {execution_id} can only be updated while it is "
                    f"paused or finished; it is {row.state}"
                )
            row.params = {**row.params, "env": {**(row.params.get("env") or {}), **env}}
            row.updated_at = self._clock()
            return row.state

    # -- actions ------------------------------------------------------------

    async def start_action(self, request: engine_pb2.StartActionRequest) -> str:
        """Creates a direct action run and sends it to an executor; returns its id."""
        action_id, outgoing = await asyncio.to_thread(self._start_action, request)
        await self._relay.publish(outgoing)
        return action_id

    def _start_action(self, request: engine_pb2.StartActionRequest) -> tuple[str, list[Outgoing]]:
        if not request.action_name:
            raise InputError("An action name must be provided")
        action_input = _json_object(request.input_json, "input")
        params = _json_object(request.params_json, "params")
        now = self._clock()
        action_id = self._new_id()
        command = RunAction(
            action_id=action_id,
            task_id="",
            execution_id="",
            root_execution_id=action_id,
            action_name=request.action_name,
            input=action_input,
            target=request.target or None,
            workflow_namespace=request.namespace,
            project_id=request.project_id,
        )
        outgoing = [_outgoing(command, now)]
        with self._db.write() as session:
            session.add(
                direct_actions.new_direct_action(
                    action_id=action_id,
                    name=request.action_name,
                    action_input=action_input,
                    params=params,
                    description=request.description,
                    namespace=request.namespace,
                    project_id=request.project_id,
                    now=now,
                )
            )
            add_to_outbox(session, outgoing, now=now)
        return action_id, outgoing

    async def complete_action(self, request: engine_pb2.CompleteActionRequest) -> str:
        """Completes a RUNNING action execution from outside; returns its new state."""
        state, outgoing = await asyncio.to_thread(self._complete_action, request)
        await self._relay.publish(outgoing)
        return state

    def _complete_action(
        self, request: engine_pb2.CompleteActionRequest
    ) -> tuple[str, list[Outgoing]]:
        with self._db.read() as session:
            row = direct_actions.running_action(session, request.action_execution_id)
            root_id = row.root_execution_id or row.id
            execution_id = row.workflow_execution_id or ""
            task_id = row.task_execution_id or ""
        event = direct_actions.completion_event(
            request.action_execution_id, task_id, request.state, request.output_json
        )
        outgoing = self._apply_in_tree(root_id, [(execution_id, event)])
        with self._db.read() as session:
            final = session.get(models.ActionExecution, request.action_execution_id)
            return (final.state if final else request.state), outgoing

    def _apply(
        self, session: Session, execution_id: str, events: list[Event], now: datetime
    ) -> _Applied:
        """Applies events to an execution, and what they cause inside its tree.

        Starting a sub-workflow and telling a parent that its child finished
        happen in this same transaction (same tree, same lock); only work for
        executors leaves, through the outbox.
        """
        outgoing: list[Outgoing] = []
        timers: list[ScheduleTimer] = []
        queue: deque[tuple[str, list[Event]]] = deque([(execution_id, list(events))])
        while queue:
            current_id, current_events = queue.popleft()
            before = store.load(session, current_id)
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
                store.save(session, before, state)
            for command in commands:
                if isinstance(command, RunAction):
                    outgoing.append(_outgoing(command, now))
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
        add_to_outbox(session, outgoing, now=now)
        session.add_all(_timer_row(timer, now) for timer in timers)
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
            )
        ]


def _machine_event(event: messages_pb2.EngineEvent) -> Event | None:
    kind = event.WhichOneof("event")
    if kind == "action_result":
        result = event.action_result
        outcome = result.WhichOneof("outcome")
        if outcome == "pending":
            return None  # an async action started; it stays RUNNING until completed
        if outcome == "failure":
            data = json.loads(result.failure.data_json) if result.failure.data_json else None
            return ActionCompleted(
                action_id=result.action_execution_id,
                task_id=result.task_execution_id,
                failed=True,
                result=data,
                error=result.failure.message,
            )
        value = json.loads(result.result_json) if result.result_json else None
        return ActionCompleted(
            action_id=result.action_execution_id, task_id=result.task_execution_id, result=value
        )
    if kind == "timer_fired":
        timer = event.timer_fired
        return TimerFired(kind=timer.kind, task_id=timer.task_execution_id, token=timer.token)
    log.error("unknown engine event kind ignored", kind=kind, event_id=event.event_id)
    return None


def _timer_row(timer: ScheduleTimer, now: datetime) -> models.Timer:
    """The durable row of a timer: the scheduler publishes its event when due."""
    timer_id = str(uuid.uuid4())
    stamp = Timestamp()
    stamp.FromDatetime(timer.due_at)
    event = messages_pb2.EngineEvent(
        event_id=timer_id,
        event_time=stamp,
        execution_id=timer.execution_id,
        root_execution_id=timer.root_execution_id,
        timer_fired=messages_pb2.TimerFired(
            timer_id=timer_id,
            kind=timer.kind,
            task_execution_id=timer.task_id,
            token=timer.token,
        ),
    )
    return models.Timer(
        id=timer_id,
        due_at=timer.due_at,
        leased_until=None,
        root_execution_id=timer.root_execution_id,
        subject=ENGINE_EVENTS_SUBJECT,
        payload=event.SerializeToString(),
        created_at=now,
    )


def _outgoing(command: Command, now: datetime) -> Outgoing:
    if isinstance(command, RunAction):
        stamp = Timestamp()
        stamp.FromDatetime(now)
        message = messages_pb2.RunAction(
            command_id=command.action_id,
            action_execution_id=command.action_id,
            task_execution_id=command.task_id,
            execution_id=command.execution_id,
            root_execution_id=command.root_execution_id,
            action_name=command.action_name,
            input_json=json.dumps(command.input).encode(),
            target=command.target or "",
            safe_rerun=command.safe_rerun,
            request_time=stamp,
            workflow_name=command.workflow_name,
            workflow_namespace=command.workflow_namespace,
            task_name=command.task_name,
            project_id=command.project_id,
        )
        return Outgoing(
            msg_id=command.action_id,
            subject=work_subject(command.target),
            payload=message.SerializeToString(),
        )
    raise TypeError(f"unknown command {command!r}")


def _json_object(text: str, field: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"Invalid JSON in {field}: {error}") from error
    if not isinstance(value, dict):
        raise InputError(f"{field} must be a JSON object, got {type(value).__name__}")
    return value

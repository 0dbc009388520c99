"""Recovery of work lost to a broker or database outage.

JetStream already redelivers work whose executor died (its message stays in
the work-queue stream until acked), and the outbox and timer tables re-send
what was never published. What can still be lost is a message the broker
itself lost: a RunAction, a result event, or a timer event. This sweep finds
the traces and applies the executor's rules:

- an action execution RUNNING for longer than `after` seconds, not accepted
  (so not a started async action), whose RunAction is neither in the outbox
  nor in the work stream (one subject per action makes that a lookup), and
  still RUNNING once the engines have applied every event published before
  its work was found gone (a stopped or crashed engine's events wait for
  redelivery; a result among them is not lost): its work or its result is
  gone. If its task is `safe-rerun` the action is sent again; otherwise it
  fails with a state_info saying why.
- a task RUNNING_DELAYED whose timer was due more than `after` seconds ago
  and has no timer row left: the timer event is delivered again (a stale one
  changes nothing).

What it did is logged and counted (`recovered_actions`, `failed_actions`,
`redelivered_timers`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import select

from levante import metrics
from levante.internal.v1 import messages_pb2
from levante.messaging.jetstream import (
    ENGINE_CONSUMER,
    ENGINE_EVENTS_SUBJECT,
    EVENTS_STREAM,
    WORK_STREAM,
    Outgoing,
    publish_all,
    work_subject,
)
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.locks import lock_root
from levante.recovery_rules import RecoveryTiming, lost_message, resent_note

log = structlog.get_logger(__name__)


@dataclass
class RecoveryCounters:
    """What recovery has done since the process started."""

    recovered_actions: int = 0
    failed_actions: int = 0
    redelivered_timers: int = 0
    log: list[str] = field(default_factory=list)


class Recovery:
    """Periodic sweep for lost work."""

    def __init__(
        self,
        database: Database,
        js: JetStreamContext,
        *,
        timing: RecoveryTiming | None = None,
    ) -> None:
        timing = timing or RecoveryTiming()
        self._db = database
        self._js = js
        self._after = timedelta(seconds=timing.after_seconds)
        self._interval = timing.interval_seconds
        self.counters = RecoveryCounters()
        # Lost-looking actions waiting for the engines' backlog: id -> the
        # engine events stream's last sequence when the work was found gone.
        self._waiting: dict[str, int] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Sweeps every interval until `stop` is set."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=self._interval)
            except TimeoutError:
                pass
            if stop.is_set():
                return
            try:
                await self.sweep()
            except Exception as error:
                log.warning("recovery sweep failed; retrying later", error=str(error))

    async def sweep(self) -> int:
        """One pass; returns how many things it re-sent or failed."""
        now = utcnow()
        actions, timers = await asyncio.to_thread(self._suspects, now - self._after)
        gone = [action for action in actions if not await self._work_exists(action)]
        lost = await self._not_in_engine_backlog(gone)
        messages = [self._resolve_action(action, now) for action in lost]
        for task, timer in timers:
            messages.append(_timer_event(task, timer))
            self.counters.redelivered_timers += 1
            metrics.RECOVERED.labels(outcome="timer").inc()
            log.warning("re-delivering a lost timer", task_id=task.id, kind=timer["kind"])
        # Noted first: the work sent again may be done before a later write.
        await asyncio.to_thread(self._note_resent, [a for a in lost if _safe_to_resend(a)], now)
        if messages:
            await publish_all(self._js, messages)
        # Looked at: not again before `after` passes. Actions waiting for the
        # engines' backlog are looked at again at the next sweep.
        waiting = set(self._waiting)
        await asyncio.to_thread(self._touch, [a.id for a in actions if a.id not in waiting], now)
        if messages:
            await asyncio.to_thread(self._mark_redelivered, [t for t, _ in timers], now)
        return len(messages)

    def _mark_redelivered(self, tasks: list[models.TaskExecution], now: datetime) -> None:
        """Notes the re-delivery on the task, under its tree's lock, so it is not repeated."""
        for task in tasks:
            with self._db.write() as session:
                lock_root(session, task.root_execution_id)
                row = session.get(models.TaskExecution, task.id)
                timer = (row.runtime_context or {}).get("timer") if row else None
                if row is None or row.state != "RUNNING_DELAYED" or not timer:
                    continue
                timer = {**timer, "redelivered_at": now.isoformat()}
                row.runtime_context = {**row.runtime_context, "timer": timer}
                execution = session.get(models.WorkflowExecution, row.workflow_execution_id)
                if execution is not None:  # engines must reload it, not reuse a cached state
                    execution.version = (execution.version or 0) + 1

    def _suspects(
        self, cutoff: datetime
    ) -> tuple[list[models.ActionExecution], list[tuple[models.TaskExecution, dict]]]:
        with self._db.read() as session:
            table = models.ActionExecution
            actions = list(
                session.scalars(
                    select(table)
                    .where(
                        table.state == "RUNNING",
                        table.accepted.is_(False),
                        table.updated_at < cutoff,
                        table.id.not_in(select(models.OutboxMessage.id)),
                    )
                    .limit(500)
                ).all()
            )
            tasks = session.scalars(
                select(models.TaskExecution)
                .where(
                    models.TaskExecution.state == "RUNNING_DELAYED",
                    models.TaskExecution.id.not_in(select(models.Timer.task_execution_id)),
                )
                .limit(500)
            ).all()
            timers = []
            for task in tasks:
                timer = (task.runtime_context or {}).get("timer")
                if not timer:
                    continue
                last = timer.get("redelivered_at") or timer["due_at"]
                if datetime.fromisoformat(last) < cutoff:
                    timers.append((task, timer))
            return actions, timers

    async def _not_in_engine_backlog(
        self, gone: list[models.ActionExecution]
    ) -> list[models.ActionExecution]:
        """The actions whose result, if any was published, the engines have applied.

        An executor publishes an action's result before it acks the work, so
        once the work is gone a result is either lost or in the engine events
        stream, up to its last sequence number now. Such an action is lost
        only when it is still RUNNING after the engines acked every event up
        to that number (the engine consumer's ack floor): until then a stopped
        or crashed engine's events may still be waiting for redelivery. It is
        judged at a later sweep, against the database read after the floor.
        """
        if not gone:
            self._waiting = {}
            return []
        last = (await self._js.stream_info(EVENTS_STREAM)).state.last_seq
        try:
            consumer = await self._js.consumer_info(EVENTS_STREAM, ENGINE_CONSUMER)
            floor = consumer.ack_floor.stream_seq if consumer.ack_floor else 0
        except NotFoundError:  # no engine ever consumed: nothing was applied
            floor = 0
        ready, waiting = [], {}
        for action in gone:
            seen = self._waiting.get(action.id)
            if seen is not None and floor >= seen:
                ready.append(action.id)
            else:
                waiting[action.id] = last if seen is None else seen
        self._waiting = waiting
        if not ready:
            return []
        return await asyncio.to_thread(self._still_running, ready)

    def _still_running(self, ids: list[str]) -> list[models.ActionExecution]:
        with self._db.read() as session:
            table = models.ActionExecution
            return list(
                session.scalars(select(table).where(table.id.in_(ids), table.state == "RUNNING"))
            )

    async def _work_exists(self, action: models.ActionExecution) -> bool:
        target = (action.params or {}).get("target")
        try:
            await self._js.get_last_msg(WORK_STREAM, work_subject(target, action.id))
        except NotFoundError:
            return False
        return True

    def _resolve_action(self, action: models.ActionExecution, now: datetime) -> Outgoing:
        params = action.params or {}
        if _safe_to_resend(action):
            self.counters.recovered_actions += 1
            metrics.RECOVERED.labels(outcome="resent").inc()
            log.warning("re-sending lost work of a safe-rerun action", action_id=action.id)
            work = messages_pb2.RunAction(
                command_id=action.id,
                action_execution_id=action.id,
                task_execution_id=action.task_execution_id or "",
                execution_id=action.workflow_execution_id or "",
                root_execution_id=action.root_execution_id or action.id,
                action_name=action.name,
                input_json=_json(action.input),
                target=params.get("target") or "",
                safe_rerun=True,
                workflow_name=action.workflow_name or "",
                workflow_namespace=action.workflow_namespace,
                task_name=action.task_name or "",
                project_id=action.project_id,
            )
            # A new message id: the first one may still be in the broker's
            # de-duplication window.
            return Outgoing(
                f"{action.id}:recovered:{uuid.uuid4().hex[:8]}",
                work_subject(params.get("target"), action.id),
                work.SerializeToString(),
            )
        self.counters.failed_actions += 1
        metrics.RECOVERED.labels(outcome="failed").inc()
        log.warning("failing an action whose work was lost", action_id=action.id)
        message = lost_message(action.name, action.id)
        event = messages_pb2.EngineEvent(
            event_id=f"{action.id}:lost",
            execution_id=action.workflow_execution_id or "",
            root_execution_id=action.root_execution_id or action.id,
            action_result=messages_pb2.ActionResult(
                action_execution_id=action.id,
                task_execution_id=action.task_execution_id or "",
                failure=messages_pb2.ActionFailure(message=message),
                executor="recovery",
            ),
        )
        return Outgoing(event.event_id, ENGINE_EVENTS_SUBJECT, event.SerializeToString())

    def _touch(self, ids: list[str], now: datetime) -> None:
        if not ids:
            return
        with self._db.write() as session:
            for row in session.scalars(
                select(models.ActionExecution).where(models.ActionExecution.id.in_(ids))
            ):
                if row.state == "RUNNING":
                    row.updated_at = now  # looked at: not again before `after` passes

    def _note_resent(self, actions: list[models.ActionExecution], now: datetime) -> None:
        """Says on each action that it was sent again, for operators (`levante doctor`, the API).

        Under its tree's lock, with its execution's version bumped: an engine
        holding the execution's state reloads it, and keeps the note when it
        saves the action's result.
        """
        for action in actions:
            with self._db.write() as session:
                lock_root(session, action.root_execution_id or action.id)
                row = session.get(models.ActionExecution, action.id)
                if row is None or row.state != "RUNNING":
                    continue
                row.state_info = resent_note(now)
                execution = (
                    session.get(models.WorkflowExecution, row.workflow_execution_id)
                    if row.workflow_execution_id
                    else None
                )
                if execution is not None:
                    execution.version = (execution.version or 0) + 1


def _safe_to_resend(action: models.ActionExecution) -> bool:
    """Safe-rerun actions, and direct runs (no task: the caller asked for a result)."""
    return bool((action.params or {}).get("safe_rerun")) or not action.task_execution_id


def _timer_event(task: models.TaskExecution, timer: dict) -> Outgoing:
    event_id = f"{task.id}:{timer['kind']}:{timer['token']}:redelivered:{uuid.uuid4().hex[:8]}"
    event = messages_pb2.EngineEvent(
        event_id=event_id,
        execution_id=task.workflow_execution_id,
        root_execution_id=task.root_execution_id,
        timer_fired=messages_pb2.TimerFired(
            timer_id=event_id,
            kind=timer["kind"],
            task_execution_id=task.id,
            token=int(timer["token"]),
        ),
    )
    return Outgoing(event_id, ENGINE_EVENTS_SUBJECT, event.SerializeToString())


def _json(value: object) -> bytes:
    return json.dumps(value).encode()

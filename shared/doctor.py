"""What looks stuck, why, and which recovery applies: the examination behind `levante doctor`.

It reads the database and asks the broker, and changes nothing. Findings:

- a RUNNING workflow execution in whose tree (sub-workflows included)
  nothing changed for `stuck_after` seconds, with what it waits for;
- an action RUNNING for `stuck_after` seconds, by where its work is: still in
  the outbox (an engine re-publishes it), queued with no executor of its
  target taking work (an operator starts one), running on an executor (its
  heartbeat keeps it; a dead executor's work is redelivered), gone (the
  scheduler's recovery re-sends or fails it, see `levante.recovery_rules`),
  or an asynchronous action waiting for its result through the API;
- actions a recovery re-sent or failed within `recovered_within` seconds;
- outbox rows and timers left behind, and engine events no engine takes.
"""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from nats.js import JetStreamContext
from nats.js.errors import NotFoundError
from sqlalchemy import String, cast, func, or_, select

from levante.messaging import jetstream
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.recovery_rules import INTERRUPTED, LOST, RESENT, RecoveryTiming

log = structlog.get_logger(__name__)

#: Outbox rows and timers this late are listed (the relay and the scheduler act within seconds).
LATE_SECONDS = 30.0
_UNFINISHED_TASKS = ("RUNNING", "RUNNING_DELAYED", "WAITING", "IDLE")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing that looks stuck (see levante.v2.Finding).

    `kind` and `recovery_state` are the names of the proto enums' values
    without their prefix (`ACTION_LOST`, `AUTOMATIC`).
    """

    kind: str
    resource: str
    reason: str
    recovery: str
    recovery_state: str
    since: datetime | None = None
    execution_id: str = ""
    name: str = ""


@dataclass(slots=True)
class Diagnosis:
    """The findings of one examination."""

    diagnose_time: datetime
    running_executions: int = 0
    findings: list[Finding] = field(default_factory=list)
    truncated: bool = False


class Doctor:
    """Examines the system on demand (`diagnose`)."""

    def __init__(
        self, database: Database, js: JetStreamContext, *, timing: RecoveryTiming | None = None
    ) -> None:
        self._db = database
        self._js = js
        self._timing = timing or RecoveryTiming()

    async def diagnose(
        self, *, stuck_after: float = 300.0, recovered_within: float = 3600.0, limit: int = 500
    ) -> Diagnosis:
        """One examination; findings ordered executions, actions, then queues and tables."""
        now = utcnow()
        diagnosis = Diagnosis(diagnose_time=now)
        rows = await asyncio.to_thread(self._read, now, stuck_after, recovered_within, limit)
        diagnosis.running_executions = rows.running
        actions = [await self._judge_action(action, now) for action in rows.actions]
        findings = [_with_actions(f, actions) for f in rows.executions]
        findings += actions
        findings += rows.recovered
        findings += rows.tables
        findings += await self._engine_events()
        diagnosis.truncated = len(findings) > limit
        diagnosis.findings = findings[:limit]
        return diagnosis

    # -- the database ------------------------------------------------------------

    def _read(
        self, now: datetime, stuck_after: float, recovered_within: float, limit: int
    ) -> _Rows:
        cutoff = now - timedelta(seconds=stuck_after)
        executions, actions = models.WorkflowExecution, models.ActionExecution
        with self._db.read() as session:
            running = session.scalar(
                select(func.count()).select_from(executions).where(executions.state == "RUNNING")
            )
            stale_roots = session.execute(
                select(executions.id, executions.workflow_name, executions.updated_at)
                .where(
                    executions.state == "RUNNING",
                    executions.root_execution_id.is_(None),
                    executions.updated_at < cutoff,
                )
                .order_by(executions.updated_at)
                .limit(limit)
            ).all()
            found = [
                finding
                for root in stale_roots
                if (finding := _without_progress(session, root, cutoff, now))
            ]
            suspects = session.execute(
                select(*_ActionRow.columns())
                .where(actions.state == "RUNNING", actions.created_at < cutoff)
                .order_by(actions.created_at)
                .limit(limit)
            ).all()
            outbox = models.OutboxMessage
            in_outbox = set(
                session.scalars(select(outbox.id).where(outbox.id.in_([a.id for a in suspects])))
            )
            return _Rows(
                running=running or 0,
                executions=found,
                actions=[_ActionRow.of(a, in_outbox=a.id in in_outbox) for a in suspects],
                recovered=_recovered(session, now - timedelta(seconds=recovered_within), limit),
                tables=_late_tables(session, now),
            )

    # -- the broker -----------------------------------------------------------------

    async def _judge_action(self, action: _ActionRow, now: datetime) -> Finding:
        age = _seconds(now - action.created_at)
        common = {
            "resource": f"action_executions/{action.id}",
            "since": action.created_at,
            "execution_id": action.root_id,
            "name": action.name,
        }
        if action.accepted:
            return Finding(
                "ACTION_WAITING_FOR_RESULT",
                reason=f"asynchronous action started {age}s ago, waiting for its result",
                recovery="an operator or the system it called completes it: PUT "
                f"/v2/action_executions/{action.id} with state and output (a task "
                "timeout, if any, fails it)",
                recovery_state="MANUAL",
                **common,
            )
        if action.in_outbox:
            return Finding(
                "ACTION_NOT_PUBLISHED",
                reason=f"its work was written {age}s ago and is not published yet",
                recovery="every engine re-publishes outbox rows older than 5 s; if no engine "
                "runs, start one",
                recovery_state="AUTOMATIC",
                **common,
            )
        try:
            where = await self._work_state(action)
        except Exception as error:  # the broker does not answer
            return Finding(
                "ACTION_RUNNING_LONG",
                reason=f"running for {age}s; the broker does not answer ({error or 'timeout'}), "
                "so where its work is cannot be told",
                recovery="run levante doctor again once the broker answers",
                recovery_state="NONE",
                **common,
            )
        target = action.target or jetstream.DEFAULT_TARGET
        if where == "running":
            return Finding(
                "ACTION_RUNNING_LONG",
                reason=f"running on an executor of target {target} for {age}s",
                recovery="none while its executor heartbeats; if the executor dies the "
                "broker redelivers the work after 30 s: "
                + ("it runs again (safe-rerun)" if action.safe else "it fails (not safe-rerun)"),
                recovery_state="NONE",
                **common,
            )
        if where in ("queued", "no executor"):
            idle = where == "no executor"
            return Finding(
                "ACTION_WAITING_FOR_EXECUTOR",
                reason=f"its work has waited {age}s for an executor of target {target}"
                + ("; none is taking work" if idle else ", behind other work"),
                recovery=(
                    "start an executor: levante server --services executor"
                    + (f" --executor-target {action.target}" if action.target else "")
                )
                if idle
                else "none: executors take it in turn",
                recovery_state="MANUAL" if idle else "NONE",
                **common,
            )
        timing = self._timing
        fate = "re-sends it (safe-rerun)" if action.safe else "fails it (not safe-rerun)"
        return Finding(
            "ACTION_LOST",
            reason=f"RUNNING for {age}s with its work gone from the queue and no result "
            "applied: lost in a broker or database outage",
            recovery=f"the scheduler's recovery {fate} once it is {timing.after_seconds:g}s "
            f"old and the engines applied the events before it (it looks every "
            f"{timing.interval_seconds:g}s); if no scheduler runs, start one",
            recovery_state="AUTOMATIC",
            **common,
        )

    async def _work_state(self, action: _ActionRow) -> str:
        """`running`, `queued`, `no executor` (queued, nobody pulls) or `gone`."""
        subject = jetstream.work_subject(action.target, action.id)
        try:
            message = await self._js.get_last_msg(jetstream.WORK_STREAM, subject)
        except NotFoundError:
            return "gone"
        durable = jetstream.executor_consumer(action.target)
        try:
            consumer = await self._js.consumer_info(jetstream.WORK_STREAM, durable)
        except NotFoundError:
            return "no executor"
        if consumer.delivered and message.seq <= consumer.delivered.stream_seq:
            return "running"
        return "queued" if consumer.num_waiting else "no executor"

    async def _engine_events(self) -> list[Finding]:
        try:
            consumer = await self._js.consumer_info(
                jetstream.EVENTS_STREAM, jetstream.ENGINE_CONSUMER
            )
        except NotFoundError:
            return []
        except Exception as error:
            log.info("doctor could not read the engine consumer", error=str(error))
            return []
        waiting = (consumer.num_pending or 0) + (consumer.num_ack_pending or 0)
        if not waiting or consumer.num_waiting:
            return []
        return [
            Finding(
                "ENGINE_EVENTS_WAITING",
                resource=f"streams/{jetstream.EVENTS_STREAM}/consumers/{jetstream.ENGINE_CONSUMER}",
                reason=f"{waiting} events wait for the engines and no engine is taking events",
                recovery="start an engine: levante server --services engine",
                recovery_state="MANUAL",
            )
        ]


@dataclass(frozen=True, slots=True)
class _Rows:
    running: int
    executions: list[Finding]
    actions: list[_ActionRow]
    recovered: list[Finding]
    tables: list[Finding]


@dataclass(frozen=True, slots=True)
class _ActionRow:
    id: str
    name: str
    root_id: str
    created_at: datetime
    accepted: bool
    safe: bool
    target: str | None
    in_outbox: bool

    @staticmethod
    def columns() -> tuple[Any, ...]:
        table = models.ActionExecution
        return (
            table.id,
            table.name,
            table.root_execution_id,
            table.created_at,
            table.accepted,
            table.params,
            table.task_execution_id,
        )

    @classmethod
    def of(cls, row: Any, *, in_outbox: bool) -> _ActionRow:
        params = row.params or {}
        return cls(
            id=row.id,
            name=row.name,
            root_id=row.root_execution_id or "",
            created_at=row.created_at,
            accepted=bool(row.accepted),
            safe=bool(params.get("safe_rerun")) or not row.task_execution_id,
            target=params.get("target") or None,
            in_outbox=in_outbox,
        )


def _without_progress(session: Any, root: Any, cutoff: datetime, now: datetime) -> Finding | None:
    """A finding if nothing in the root's tree changed since `cutoff`."""
    executions, tasks, actions = (
        models.WorkflowExecution,
        models.TaskExecution,
        models.ActionExecution,
    )
    tree = [
        root.id,
        *session.scalars(select(executions.id).where(executions.root_execution_id == root.id)),
    ]
    latest = [root.updated_at]
    latest.append(
        session.scalar(
            select(func.max(executions.updated_at)).where(executions.root_execution_id == root.id)
        )
    )
    task_rows = session.execute(
        select(tasks.id, tasks.name, tasks.state, tasks.updated_at).where(
            tasks.workflow_execution_id.in_(tree)
        )
    ).all()
    latest += [t.updated_at for t in task_rows]
    if task_rows:
        latest.append(
            session.scalar(
                select(func.max(actions.updated_at)).where(
                    actions.task_execution_id.in_([t.id for t in task_rows])
                )
            )
        )
    changed = max((t for t in latest if t is not None), default=None)
    if changed is not None and changed >= cutoff:
        return None
    open_tasks = [t for t in task_rows if t.state in _UNFINISHED_TASKS]
    named = [f"{t.name} ({t.state})" for t in open_tasks]
    waiting = ", ".join(named[:5]) + (" ..." if len(named) > 5 else "")
    age = _seconds(now - changed) if changed else 0
    finding = Finding(
        "EXECUTION_WITHOUT_PROGRESS",
        resource=f"executions/{root.id}",
        execution_id=root.id,
        name=root.workflow_name,
        since=changed,
        reason=f"RUNNING, and nothing in it changed for {age}s"
        + (f"; open tasks: {waiting}" if waiting else "; no task is open"),
        recovery="nothing will move it by itself: rerun a task (PUT /v2/tasks/{id} "
        f"state=RUNNING) or end it (PUT /v2/executions/{root.id} state=ERROR or CANCELLED)",
        recovery_state="MANUAL",
    )
    delayed = [t.id for t in open_tasks if t.state == "RUNNING_DELAYED"]
    due = delayed and session.scalar(
        select(func.min(models.Timer.due_at)).where(models.Timer.task_execution_id.in_(delayed))
    )
    if due and due > now:
        return dataclasses.replace(
            finding,
            recovery=f"none: it waits for a timer due at {due.isoformat(timespec='seconds')}Z",
            recovery_state="NONE",
        )
    return finding


def _with_actions(finding: Finding, actions: list[Finding]) -> Finding:
    """An execution's finding, deferring to the findings of its actions when there are some."""
    own = [a for a in actions if a.execution_id == finding.execution_id]
    if not own or finding.recovery_state == "NONE":
        return finding
    states = {a.recovery_state for a in own}
    state = next(s for s in ("MANUAL", "AUTOMATIC", "NONE") if s in states)
    return dataclasses.replace(
        finding, recovery="as its actions' findings say", recovery_state=state
    )


def _recovered(session: Any, since: datetime, limit: int) -> list[Finding]:
    actions = models.ActionExecution
    output = cast(actions.output, String)
    rows = session.scalars(
        select(actions)
        .where(
            actions.updated_at >= since,
            or_(
                actions.state_info.like(f"{RESENT}%"),
                (actions.state == "ERROR") & output.like(f"%{LOST}%"),
                (actions.state == "ERROR") & output.like(f"%{INTERRUPTED}%"),
            ),
        )
        .order_by(actions.updated_at.desc())
        .limit(limit)
    ).all()
    found = []
    for row in rows:
        text = f"{row.state_info or ''} {row.output or ''}"
        if (row.state_info or "").startswith(RESENT):
            what = f"re-sent by the scheduler's recovery (safe-rerun); now {row.state}"
        elif LOST in text:
            what = "failed by the scheduler's recovery: lost, and not safe-rerun"
        else:
            what = "failed by the executor that received it again: interrupted, not safe-rerun"
        found.append(
            Finding(
                "ACTION_RECOVERED",
                resource=f"action_executions/{row.id}",
                execution_id=row.root_execution_id or "",
                name=row.name,
                since=row.updated_at,
                reason=f"its work was interrupted or lost (task {row.task_name})",
                recovery=what,
                recovery_state="APPLIED",
            )
        )
    return found


def _late_tables(session: Any, now: datetime) -> list[Finding]:
    late = now - timedelta(seconds=LATE_SECONDS)
    found = []
    outbox = models.OutboxMessage
    count, oldest = session.execute(
        select(func.count(), func.min(outbox.created_at)).where(outbox.created_at < late)
    ).one()
    if count:
        found.append(
            Finding(
                "OUTBOX_BACKLOG",
                resource="outbox",
                since=oldest,
                reason=f"{count} messages committed and not published, the oldest for "
                f"{_seconds(now - oldest)}s (the broker was away, or no engine runs)",
                recovery="every engine re-publishes outbox rows older than 5 s, every 3 s; "
                "if no engine runs, start one",
                recovery_state="AUTOMATIC",
            )
        )
    timers = models.Timer
    count, oldest = session.execute(
        select(func.count(), func.min(timers.due_at)).where(timers.due_at < late)
    ).one()
    if count:
        found.append(
            Finding(
                "TIMERS_OVERDUE",
                resource="timers",
                since=oldest,
                reason=f"{count} timers due and not delivered, the oldest due "
                f"{_seconds(now - oldest)}s ago",
                recovery="a scheduler delivers due timers within 50 ms, and a timer whose "
                "scheduler died after 30 s; if no scheduler runs, start one",
                recovery_state="AUTOMATIC",
            )
        )
    return found


def _seconds(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds()))

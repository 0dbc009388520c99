"""Replays workflows against the pure engine with scripted action results.

Sub-workflows run too: StartChild and NotifyParent are handled here as the
runtime handles them (in the same "transaction"), so a whole execution tree
is rehearsed without a database or broker.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from levante.engine.machine import step
from levante.engine.state import (
    ActionCompleted,
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
from levante.language import parse
from levante.language.spec import ActionSpec, WorkflowSpec
from levante.states import State

START = datetime(2026, 1, 1, 12, 0, 0)


@dataclass
class Rehearsal:
    """The outcome of a replay: final states, task start order, commands seen."""

    state: ExecutionState
    executions: dict[str, ExecutionState] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    commands: list[RunAction] = field(default_factory=list)
    timers: list[str] = field(default_factory=list)


def _default_result(command: RunAction) -> dict[str, Any]:
    if command.action_name == "std.echo":
        return {"result": command.input.get("output")}
    if command.action_name == "std.fail":
        data = command.input.get("error_data")
        return {
            "error": str(data) if data is not None else "Fail action expected exception.",
            "data": data,
        }
    return {"result": None}


class _Tree:
    def __init__(self, specs: dict[str, WorkflowSpec], actions: dict[str, ActionSpec]) -> None:
        self.specs = specs
        self.actions = actions
        self.executions: dict[str, ExecutionState] = {}
        self.counter = itertools.count(1)
        self.clock = (START + timedelta(seconds=i) for i in itertools.count())
        self.pending: list[RunAction] = []
        self.timers: list[ScheduleTimer] = []

    def new_id(self) -> str:
        return f"id-{next(self.counter)}"

    def create(
        self,
        spec: WorkflowSpec,
        *,
        execution_id: str,
        root_id: str,
        workflow_input: dict[str, Any],
        params: dict[str, Any],
        parent: tuple[str, str] | None = None,
    ) -> None:
        declared = {p.name: p.default for p in spec.input if p.has_default}
        self.executions[execution_id] = ExecutionState(
            id=execution_id,
            root_id=root_id,
            workflow_id=f"wf-{spec.name}",
            workflow_name=spec.name,
            workflow_namespace="",
            spec=spec,
            state=State.IDLE,
            input={**declared, **workflow_input},
            params={"env": {}, **params},
            created_at=START,
            adhoc=self.actions,
            parent_execution_id=parent[0] if parent else None,
            parent_task_id=parent[1] if parent else None,
        )

    def apply(self, execution_id: str, event: Event) -> None:
        queue: deque[tuple[str, Event]] = deque([(execution_id, event)])
        now = next(self.clock)
        while queue:
            current, current_event = queue.popleft()
            outcome = step(self.executions[current], current_event, now=now, new_id=self.new_id)
            self.executions[current] = outcome.state
            for command in outcome.commands:
                if isinstance(command, RunAction):
                    self.pending.append(command)
                elif isinstance(command, StartChild):
                    name = command.workflow_name
                    self.create(
                        self.specs[name],
                        execution_id=command.child_id,
                        root_id=command.root_execution_id,
                        workflow_input=command.input,
                        params={"index": command.index},
                        parent=(command.parent_execution_id, command.task_id),
                    )
                    queue.append((command.child_id, StartExecution()))
                elif isinstance(command, ScheduleTimer):
                    self.timers.append(command)
                elif isinstance(command, Signal):
                    queue.append((command.execution_id, command.event))
                elif isinstance(command, NotifyParent):
                    queue.append(
                        (
                            command.parent_execution_id,
                            ActionCompleted(
                                action_id=command.child_id,
                                task_id=command.parent_task_id,
                                failed=command.failed,
                                result=command.output,
                                error=command.state_info,
                            ),
                        )
                    )


def rehearse(
    definition: str,
    *,
    workflow_input: dict[str, Any] | None = None,
    results: dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
    run: str | None = None,
    max_steps: int = 1000,
) -> Rehearsal:
    """Runs a workflow tree to completion.

    `results` maps task name -> {result} | {error, data}; `run` names the
    workflow to start (default: the first of the document).
    """
    document = parse(definition)
    specs = {spec.name: spec for spec in document.workflows}
    main = specs[run] if run else next(iter(specs.values()))
    tree = _Tree(specs, {a.name: a for a in document.actions})
    tree.create(
        main,
        execution_id="ex-1",
        root_id="ex-1",
        workflow_input=workflow_input or {},
        params=params or {},
    )
    tree.apply("ex-1", StartExecution())
    replay = Rehearsal(state=tree.executions["ex-1"], executions=tree.executions)
    for _ in range(max_steps):
        if not tree.pending and tree.timers:
            # Virtual time: with no action in flight, the earliest timer fires.
            timer = min(tree.timers, key=lambda t: t.due_at)
            tree.timers.remove(timer)
            replay.timers.append(timer.kind)
            tree.apply(timer.execution_id, TimerFired(timer.kind, timer.task_id, timer.token))
            continue
        if not tree.pending:
            break
        command = tree.pending.pop(0)
        replay.commands.append(command)
        task = tree.executions[command.execution_id].task(command.task_id)
        assert task is not None
        replay.order.append(task.name)
        scripted = (results or {}).get(task.name) or _default_result(command)
        if "error" in scripted:
            event = ActionCompleted(
                action_id=command.action_id,
                task_id=command.task_id,
                failed=True,
                result=scripted.get("data"),
                error=scripted["error"],
            )
        else:
            event = ActionCompleted(
                action_id=command.action_id, task_id=command.task_id, result=scripted["result"]
            )
        tree.apply(command.execution_id, event)
    replay.state = tree.executions["ex-1"]
    return replay

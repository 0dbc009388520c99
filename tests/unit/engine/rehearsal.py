"""Replays a workflow against the pure engine with scripted action results."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from levante.engine.machine import step
from levante.engine.state import ActionCompleted, ExecutionState, RunAction, StartExecution
from levante.language import parse
from levante.states import State

START = datetime(2026, 1, 1, 12, 0, 0)


@dataclass
class Rehearsal:
    """The outcome of a replay: final state, task start order, commands seen."""

    state: ExecutionState
    order: list[str] = field(default_factory=list)
    commands: list[RunAction] = field(default_factory=list)


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


def rehearse(
    definition: str,
    *,
    workflow_input: dict[str, Any] | None = None,
    results: dict[str, Any] | None = None,
    max_steps: int = 1000,
) -> Rehearsal:
    """Runs the workflow to completion; `results` maps task name -> {result} | {error, data}."""
    spec = parse(definition).workflows[0]
    declared = {p.name: p.default for p in spec.input if p.has_default}
    counter = itertools.count(1)
    state = ExecutionState(
        id="ex-1",
        root_id="ex-1",
        workflow_id="wf-1",
        workflow_name=spec.name,
        workflow_namespace="",
        spec=spec,
        state=State.IDLE,
        input={**declared, **(workflow_input or {})},
        params={"env": {}},
        created_at=START,
    )
    new_id = lambda: f"id-{next(counter)}"  # noqa: E731
    clock = (START + timedelta(seconds=i) for i in itertools.count())
    outcome = step(state, StartExecution(), now=next(clock), new_id=new_id)
    replay = Rehearsal(state=outcome.state)
    pending = list(outcome.commands)
    for _ in range(max_steps):
        if not pending:
            break
        command = pending.pop(0)
        assert isinstance(command, RunAction)
        replay.commands.append(command)
        task = replay.state.task(command.task_id)
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
        outcome = step(replay.state, event, now=next(clock), new_id=new_id)
        replay.state = outcome.state
        pending.extend(outcome.commands)
    return replay

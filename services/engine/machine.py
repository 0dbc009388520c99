"""The engine core: `step(state, event) -> Outcome(state, commands)`.

Pure: no database, broker or clock; time and new ids are passed in. It never
raises for anything a workflow can do: a failing expression or action becomes
an ERROR state with a `state_info` saying where and why.

Semantics follow Mistral's direct workflows: a task's `$` is the execution's
initial context (input and vars) merged with the outbound contexts (inbound
plus published) of the tasks that triggered it; after a task completes its
`on-success` / `on-error` and `on-complete` transitions are evaluated; the
execution completes when no task is left running, in ERROR if a task failed
and no `on-error` transition handled it.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from levante.engine.state import (
    ActionCompleted,
    ActionRun,
    Command,
    Event,
    ExecutionState,
    Outcome,
    RunAction,
    StartExecution,
    TaskRun,
)
from levante.errors import ExpressionError
from levante.expressions import ExpressionContext, evaluate
from levante.language.spec import TaskSpec, Transition, TransitionKind
from levante.states import COMPLETED, State

NOOP_ACTION = "std.noop"


def step(
    state: ExecutionState, event: Event, *, now: datetime, new_id: Callable[[], str]
) -> Outcome:
    """Applies one event to an execution. Applying a stale or repeated event changes nothing."""
    run = _Run(state, now=now, new_id=new_id)
    if isinstance(event, StartExecution):
        run.start()
    elif isinstance(event, ActionCompleted):
        run.complete_action(event)
    return run.outcome()


class _Run:
    """Mutable scratchpad for one step; frozen into an Outcome at the end."""

    def __init__(self, state: ExecutionState, *, now: datetime, new_id: Callable[[], str]):
        self.state = state
        self.now = now
        self.new_id = new_id
        self.tasks: dict[str, TaskRun] = {t.id: t for t in state.tasks}
        self.commands: list[Command] = []
        self.changed = False
        self._created = 0

    # -- events -------------------------------------------------------------

    def start(self) -> None:
        if self.state.state is not State.IDLE:
            return  # already started: a repeated start is harmless
        self._set_execution(state=State.RUNNING)
        try:
            variables = self._evaluate(self.state.spec.vars, self.state.input)
        except ExpressionError as error:
            self._finish(State.ERROR, f"Failed to evaluate workflow vars: {error}")
            return
        context = {**self.state.input, **variables}
        self._set_execution(context=context)
        for spec in self.state.spec.start_tasks():
            self._start_task(spec, context, triggered_by=())
        self._check_completion()

    def complete_action(self, event: ActionCompleted) -> None:
        task = self.tasks.get(event.task_id)
        if task is None or task.state in COMPLETED or self.state.state in COMPLETED:
            return
        action = next((a for a in task.actions if a.id == event.action_id), None)
        if action is None or action.state in COMPLETED:
            return  # a redelivered result: already applied
        if event.failed:
            message = event.error or "Action failed"
            result = event.result if event.result is not None else message
            action = dataclasses.replace(
                action, state=State.ERROR, output={"result": result}, updated_at=self.now
            )
        else:
            action = dataclasses.replace(
                action, state=State.SUCCESS, output={"result": event.result}, updated_at=self.now
            )
        task = self._put(dataclasses.replace(task, actions=(*task.actions[:-1], action)))
        spec = self.state.spec.tasks[task.name]
        if event.failed:
            error_text = _error_text(event)
            self._complete_task(task, spec, State.ERROR, result=error_text, info=error_text)
        else:
            self._complete_task(task, spec, State.SUCCESS, result=event.result)
        self._check_completion()

    # -- tasks --------------------------------------------------------------

    def _start_task(
        self, spec: TaskSpec, in_context: dict[str, Any], *, triggered_by: tuple[dict, ...]
    ) -> None:
        task = self._put(
            TaskRun(
                id=self.new_id(),
                name=spec.name,
                state=State.RUNNING,
                in_context=in_context,
                created_at=self._creation_time(),
                started_at=self.now,
                updated_at=self.now,
                type="WORKFLOW" if spec.workflow else "ACTION",
                triggered_by=triggered_by,
            )
        )
        if spec.workflow:
            info = f"Task '{spec.name}': sub-workflows are not supported by this engine version"
            self._complete_task(task, spec, State.ERROR, result=info, info=info)
            return
        try:
            action_input = self._evaluate(spec.input, in_context, current=task)
        except ExpressionError as error:
            info = f"Failed to evaluate the input of task '{spec.name}': {error}"
            self._complete_task(task, spec, State.ERROR, result=info, info=info)
            return
        name = spec.action or NOOP_ACTION
        action = ActionRun(
            id=self.new_id(),
            name=name,
            state=State.RUNNING,
            input=action_input,
            created_at=self.now,
            updated_at=self.now,
        )
        self._put(dataclasses.replace(task, actions=(action,)))
        self.commands.append(
            RunAction(
                action_id=action.id,
                task_id=task.id,
                execution_id=self.state.id,
                root_execution_id=self.state.root_id,
                action_name=name,
                input=action_input,
                target=spec.target,
                safe_rerun=spec.safe_rerun,
                workflow_name=self.state.workflow_name,
                workflow_namespace=self.state.workflow_namespace,
                task_name=spec.name,
                project_id=self.state.project_id,
            )
        )

    def _complete_task(
        self, task: TaskRun, spec: TaskSpec, outcome: State, *, result: Any, info: str | None = None
    ) -> None:
        task = dataclasses.replace(
            task,
            state=outcome,
            state_info=info,
            result=result if spec.keep_result else None,
            finished_at=self.now,
            updated_at=self.now,
        )
        publish = spec.publish if outcome is State.SUCCESS else spec.publish_on_error
        try:
            published = self._evaluate(publish, task.in_context, current=task)
        except ExpressionError as error:
            info = f"Failed to publish the result of task '{spec.name}': {error}"
            task = dataclasses.replace(task, state=State.ERROR, state_info=info, result=info)
            published = {}
        task = self._put(dataclasses.replace(task, published=published or {}))
        self._run_transitions(task, spec)

    def _run_transitions(self, task: TaskRun, spec: TaskSpec) -> None:
        if task.state is State.SUCCESS:
            clauses = (("on-success", spec.on_success), ("on-complete", spec.on_complete))
        else:
            clauses = (("on-error", spec.on_error), ("on-complete", spec.on_complete))
        handled = False
        out_context = task.out_context()
        chosen: list[tuple[str, Transition]] = []
        for event_name, transitions in clauses:
            for transition in transitions:
                try:
                    taken = self._condition(transition, out_context, task)
                except ExpressionError as error:
                    info = (
                        f"Failed to evaluate a transition condition of task '{task.name}' "
                        f"({event_name}): {error}"
                    )
                    self._put(dataclasses.replace(task, processed=True))
                    self._finish(State.ERROR, info)
                    return
                if taken:
                    chosen.append((event_name, transition))
                    handled = handled or event_name == "on-error"
        task = self._put(dataclasses.replace(task, processed=True, error_handled=handled))
        for event_name, transition in chosen:
            if self.state.state is not State.RUNNING:
                return
            self._follow(task, event_name, transition, out_context)

    def _follow(
        self, task: TaskRun, event_name: str, transition: Transition, out_context: dict[str, Any]
    ) -> None:
        if transition.kind is TransitionKind.TASK:
            spec = self.state.spec.tasks[transition.target or ""]
            trigger = ({"task_id": task.id, "event": event_name},)
            self._start_task(spec, dict(out_context), triggered_by=trigger)
            return
        message = transition.message
        if message is not None:
            try:
                message = str(self._evaluate(message, out_context, current=task))
            except ExpressionError as error:
                self._finish(
                    State.ERROR,
                    f"Failed to evaluate the {transition.kind} message "
                    f"of task '{task.name}': {error}",
                )
                return
        if transition.kind is TransitionKind.FAIL:
            self._finish(State.ERROR, message or self._failure_info())
        elif transition.kind is TransitionKind.SUCCEED:
            self._succeed(message=message)
        elif transition.kind is TransitionKind.PAUSE:
            self._set_execution(state=State.PAUSED, state_info=message)

    def _condition(self, transition: Transition, data: dict[str, Any], task: TaskRun) -> bool:
        if transition.condition is None:
            return True
        return bool(self._evaluate(transition.condition, data, current=task))

    # -- the execution ------------------------------------------------------

    def _check_completion(self) -> None:
        if self.state.state is not State.RUNNING:
            return
        if any(t.state not in COMPLETED or not t.processed for t in self.tasks.values()):
            return
        if any(t.state is State.ERROR and not t.error_handled for t in self.tasks.values()):
            self._finish(State.ERROR, self._failure_info())
        else:
            self._succeed()

    def _succeed(self, *, message: str | None = None) -> None:
        context = dict(self.state.context)
        for task in self._end_tasks():
            context.update(task.out_context())
        try:
            output = (
                self._evaluate(self.state.spec.output, context) if self.state.spec.output else {}
            )
        except ExpressionError as error:
            self._finish(State.ERROR, f"Failed to evaluate the workflow output: {error}")
            return
        if not isinstance(output, dict):
            output = {"result": output}
        self._set_execution(state=State.SUCCESS, state_info=message, output=output)

    def _finish(self, outcome: State, info: str) -> None:
        self._set_execution(state=outcome, state_info=info, output={"result": info})

    def _end_tasks(self) -> list[TaskRun]:
        """Completed tasks that triggered nothing: their contexts form the final one."""
        triggers = {trig["task_id"] for t in self.tasks.values() for trig in t.triggered_by}
        return [t for t in self._ordered() if t.id not in triggers and t.state is State.SUCCESS]

    def _failure_info(self) -> str:
        failed = [t for t in self._ordered() if t.state is State.ERROR and not t.error_handled]
        text = "Failure caused by error in tasks: " + ", ".join(t.name for t in failed) + "\n\n"
        for task in failed:
            text += f"  {task.name} [task_ex_id={task.id}] -> {task.state_info}\n"
            for index, action in enumerate(a for a in task.actions if a.state is State.ERROR):
                result = (action.output or {}).get("result")
                text += f"    [action_ex_id={action.id}, idx={index}]: {result}\n"
        return text

    # -- helpers ------------------------------------------------------------

    def _evaluate(self, value: Any, data: dict[str, Any], *, current: TaskRun | None = None) -> Any:
        return evaluate(value, self._expression_context(data, current))

    def _expression_context(
        self, data: dict[str, Any], current: TaskRun | None
    ) -> ExpressionContext:
        views = {t.name: _task_view(t) for t in self._ordered()}
        return ExpressionContext(
            data=data,
            tasks=views,
            current_task=_task_view(current) if current else None,
            env=self.state.params.get("env") or {},
            execution={
                "id": self.state.id,
                "name": self.state.workflow_name,
                "input": self.state.input,
                "params": self.state.params,
                "created_at": self.state.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            },
        )

    def _creation_time(self) -> datetime:
        # Tasks created in one step get distinct, increasing creation times,
        # so "creation order" survives a round trip through the database.
        self._created += 1
        return self.now + timedelta(microseconds=self._created - 1)

    def _ordered(self) -> list[TaskRun]:
        return sorted(self.tasks.values(), key=lambda t: t.created_at)

    def _put(self, task: TaskRun) -> TaskRun:
        self.tasks[task.id] = task
        self.changed = True
        return task

    def _set_execution(self, **changes: Any) -> None:
        self.state = dataclasses.replace(self.state, updated_at=self.now, **changes)
        self.changed = True

    def outcome(self) -> Outcome:
        if not self.changed:
            return Outcome(state=self.state)
        state = dataclasses.replace(self.state, tasks=tuple(self._ordered()))
        return Outcome(state=state, commands=tuple(self.commands))


def _task_view(task: TaskRun) -> dict[str, Any]:
    return {
        "id": task.id,
        "name": task.name,
        "state": str(task.state),
        "state_info": task.state_info,
        "result": task.result,
        "published": task.published,
    }


def _error_text(event: ActionCompleted) -> str:
    """The task's state_info for a failed action: its error data, else its message."""
    if event.result is None:
        return event.error or "Action failed"
    return event.result if isinstance(event.result, str) else json.dumps(event.result)

"""The engine core: `step(state, event) -> Outcome(state, commands)`.

Pure: no database, broker or clock; time and new ids are passed in. It never
raises for anything a workflow can do: a failing expression or action becomes
an ERROR state with a `state_info` saying where and why.

Semantics follow Mistral's direct workflows: a task's `$` is the execution's
initial context (input and vars) merged with the outbound contexts (inbound
plus published) of the tasks that triggered it; after a task completes its
`on-success` / `on-error` and `on-complete` transitions are evaluated; a
`join` task waits for its inbound tasks (`levante.engine.joins`); a
with-items task runs one action per item, at most `concurrency` at a time,
and collects their results in item order; the execution completes when no
task is left running, in ERROR if a task failed and no `on-error` transition
handled it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from levante.engine import adhoc
from levante.engine import items as with_items
from levante.engine.flow import FlowMixin
from levante.engine.lifecycle import LifecycleMixin
from levante.engine.policies import PolicyMixin
from levante.engine.state import (
    ActionCompleted,
    ActionRun,
    Command,
    Event,
    ExecutionState,
    NotifyParent,
    Outcome,
    PauseExecution,
    RerunTask,
    ResumeExecution,
    RunAction,
    StartChild,
    StartExecution,
    StopExecution,
    TaskRun,
    TimerFired,
)
from levante.engine.transitions import TransitionsMixin
from levante.engine.views import LazyView, TaskViews, task_view
from levante.errors import ExpressionError
from levante.expressions import ExpressionContext, evaluate
from levante.language.spec import TaskSpec, WorkflowType
from levante.states import COMPLETED, State

NOOP_ACTION = "std.noop"
_CREATED_AT = attrgetter("created_at")


def step(
    state: ExecutionState, event: Event, *, now: datetime, new_id: Callable[[], str]
) -> Outcome:
    """Applies one event to an execution. Applying a stale or repeated event changes nothing."""
    run = _Run(state, now=now, new_id=new_id)
    if isinstance(event, StartExecution):
        run.start()
    elif isinstance(event, ActionCompleted):
        run.complete_action(event)
    elif isinstance(event, TimerFired):
        run.fire_timer(event)
    elif isinstance(event, RerunTask):
        run.rerun(event)
    elif isinstance(event, PauseExecution):
        run.pause()
    elif isinstance(event, ResumeExecution):
        run.resume(event)
    elif isinstance(event, StopExecution):
        run.stop(event)
    return run.outcome()


class _Run(LifecycleMixin, PolicyMixin, FlowMixin, TransitionsMixin):
    """Mutable scratchpad for one step; frozen into an Outcome at the end."""

    def __init__(self, state: ExecutionState, *, now: datetime, new_id: Callable[[], str]):
        self.state = state
        self.now = now
        self.new_id = new_id
        self.tasks: dict[str, TaskRun] = {t.id: t for t in state.tasks}
        self.commands: list[Command] = []
        self.changed = False
        self._created = 0
        self._initial_state = state.state
        self._views: dict[str, TaskRun] | None = None
        #: Task ids in creation order, kept while tasks are only appended.
        self._order: list[str] | None = None

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
        # vars start the global context; the first tasks' branch context is the input.
        context = dict(self.state.input)
        self._set_execution(context=context, globals=variables)
        if self.state.spec.type is WorkflowType.REVERSE:
            self._start_ready_required()
        else:
            for spec in self.state.spec.start_tasks():
                self._start_task(spec, context, triggered_by=())
        self._settle()

    def complete_action(self, event: ActionCompleted) -> None:
        task = self.tasks.get(event.task_id)
        if task is None or task.state in COMPLETED or self.state.state in COMPLETED:
            return
        index = task.index()
        position = index.position(event.action_id)
        if position is None or task.actions[position].state in COMPLETED:
            return  # a redelivered result: already applied
        action = task.actions[position]
        result = event.result
        if event.failed and result is None:
            result = event.error or "Action failed"
        if not event.failed and action.name in self.state.adhoc:
            try:
                result = adhoc.transform(
                    action.name,
                    result,
                    self.state.adhoc,
                    lambda value, data: self._evaluate(value, data, current=task),
                )
            except (adhoc.AdHocError, ExpressionError) as error:
                event = ActionCompleted(
                    action_id=event.action_id,
                    task_id=event.task_id,
                    failed=True,
                    error=f"Failed to transform the output of ad-hoc action "
                    f"'{action.name}': {error}",
                )
                result = event.error
            else:
                event = dataclasses.replace(event, result=result)
        finished = dataclasses.replace(
            action,
            state=State.ERROR if event.failed else State.SUCCESS,
            output={"result": result},
            updated_at=self.now,
            started=event.started,
        )
        actions = task.actions[:position] + (finished,) + task.actions[position + 1 :]
        task = self._put(
            dataclasses.replace(
                task,
                actions=actions,
                updated_at=self.now,
                memo=index.replaced(actions, action, finished),
            )
        )
        action = finished
        spec = self.state.spec.tasks[task.name]
        if task.items is not None:
            self._continue_items(task, spec)
        elif action.kind == "workflow":
            # A sub-workflow: its output is the result, its state_info the task's.
            outcome = State.ERROR if event.failed else State.SUCCESS
            self._finish_attempt(task, spec, outcome, result=event.result, info=event.error)
        elif event.failed:
            error_text = with_items.error_text(event.result, event.error)
            self._finish_attempt(task, spec, State.ERROR, result=error_text, info=error_text)
        else:
            self._finish_attempt(task, spec, State.SUCCESS, result=event.result, info=None)
        self._settle()

    # -- tasks --------------------------------------------------------------

    def _start_task(
        self, spec: TaskSpec, in_context: dict[str, Any], *, triggered_by: tuple[dict, ...]
    ) -> None:
        if spec.join is not None:
            self._arrive_at_join(spec, in_context, triggered_by)
            return
        task = self._put(self._new_task(spec, in_context, triggered_by, State.RUNNING))
        self._begin(task, spec)

    def _new_task(
        self,
        spec: TaskSpec,
        in_context: dict[str, Any],
        triggered_by: tuple[dict, ...],
        state: State,
    ) -> TaskRun:
        return TaskRun(
            id=self.new_id(),
            name=spec.name,
            state=state,
            in_context=in_context,
            created_at=self._creation_time(),
            started_at=self.now if state is State.RUNNING else None,
            updated_at=self.now,
            type="WORKFLOW" if spec.workflow else "ACTION",
            triggered_by=triggered_by,
        )

    def _run_task(self, task: TaskRun, spec: TaskSpec) -> None:
        if spec.with_items:
            self._start_items(task, spec)
            return
        try:
            action_input = self._evaluate(spec.input, task.in_context, current=task)
        except ExpressionError as error:
            info = f"Failed to evaluate the input of task '{spec.name}': {error}"
            self._complete_task(task, spec, State.ERROR, result=info, info=info)
            return
        self._dispatch(task, spec, action_input, index=0)

    def _dispatch(self, task: TaskRun, spec: TaskSpec, action_input: Any, *, index: int) -> TaskRun:
        name = spec.workflow or spec.action or NOOP_ACTION
        target, safe_rerun = self._routing(task, spec)
        base_name, base_input = name, action_input
        if not spec.workflow and name in self.state.adhoc:
            try:
                base_name, base_input = adhoc.resolve(
                    name,
                    action_input if isinstance(action_input, dict) else {},
                    self.state.adhoc,
                    lambda value, data: self._evaluate(value, data, current=task),
                )
            except (adhoc.AdHocError, ExpressionError) as error:
                info = f"Failed to prepare ad-hoc action '{name}' of task '{spec.name}': {error}"
                self._complete_task(task, spec, State.ERROR, result=info, info=info)
                return self.tasks[task.id]
        action = ActionRun(
            id=self.new_id(),
            name=name,
            state=State.RUNNING,
            input=action_input,
            created_at=self.now,
            updated_at=self.now,
            index=index,
            kind="workflow" if spec.workflow else "action",
            target=target,
            safe_rerun=safe_rerun,
        )
        actions = (*task.actions, action)
        task = self._put(
            dataclasses.replace(task, actions=actions, memo=task.index().appended(actions, action))
        )
        if spec.workflow:
            self.commands.append(
                StartChild(
                    child_id=action.id,
                    task_id=task.id,
                    parent_execution_id=self.state.id,
                    root_execution_id=self.state.root_id,
                    workflow_name=spec.workflow,
                    workflow_namespace=self.state.workflow_namespace,
                    input=action_input if isinstance(action_input, dict) else {},
                    index=index,
                    env=self.state.params.get("env") or {},
                    custom_context=self.state.custom_context,
                )
            )
            return task
        self.commands.append(
            RunAction(
                action_id=action.id,
                task_id=task.id,
                execution_id=self.state.id,
                root_execution_id=self.state.root_id,
                action_name=base_name,
                input=base_input,
                target=target,
                safe_rerun=safe_rerun,
                workflow_name=self.state.workflow_name,
                workflow_namespace=self.state.workflow_namespace,
                task_name=spec.name,
                project_id=self.state.project_id,
                custom_context=self.state.custom_context,
            )
        )
        return task

    # -- the execution ------------------------------------------------------

    def _check_completion(self) -> None:
        if self.state.state is not State.RUNNING:
            return
        # Newest first: an active task is usually one of the last created.
        if any(t.state not in COMPLETED or not t.processed for t in reversed(self.tasks.values())):
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
        """Mistral's summary of the unhandled task errors, with their failed actions."""
        failed = [t for t in self._ordered() if t.state is State.ERROR and not t.error_handled]
        blocks = []
        for task in failed:
            block = f"  {task.name} [task_ex_id={task.id}] -> {task.state_info}\n"
            for action in sorted(task.live_actions, key=lambda a: a.index):
                if action.state is State.ERROR and action.started:
                    result = (action.output or {}).get("result")
                    if action.kind == "workflow" and isinstance(result, dict):
                        result = result.get("result", result)  # the child's failure text
                    key = "wf_ex_id" if action.kind == "workflow" else "action_ex_id"
                    block += f"    [{key}={action.id}, idx={action.index}]: {result}\n"
            blocks.append(block)
        names = ", ".join(t.name for t in failed)
        return f"Failure caused by error in tasks: {names}\n\n" + "\n".join(blocks)

    # -- helpers ------------------------------------------------------------

    def _evaluate(self, value: Any, data: dict[str, Any], *, current: TaskRun | None = None) -> Any:
        return evaluate(value, self._expression_context(data, current))

    def _routing(self, task: TaskRun, spec: TaskSpec) -> tuple[str | None, bool]:
        """The task's `target` and `safe-rerun`, which may be expressions."""
        try:
            target = self._value(spec.target, task)
            safe = self._flag(spec.safe_rerun, task)
        except ExpressionError:
            return spec.target, False
        return (str(target) if target else None), safe

    def _keep_result(self, task: TaskRun, spec: TaskSpec) -> bool:
        if isinstance(spec.keep_result, bool):
            return spec.keep_result
        try:
            return self._flag(spec.keep_result, task)
        except ExpressionError:
            return True

    def _expression_context(
        self, data: dict[str, Any], current: TaskRun | None
    ) -> ExpressionContext:
        return ExpressionContext(
            data={**self.state.globals, **data}
            if self.state.globals and isinstance(data, dict)
            else data,
            global_vars=self.state.globals,
            tasks=TaskViews(self._latest_runs, self.state.spec),
            current_task=task_view(current, self.state.spec) if current else None,
            env=self.state.params.get("env") or {},
            execution=LazyView(
                {
                    "id": self.state.id,
                    "name": self.state.workflow_name,
                    "input": self.state.input,
                    "params": self.state.params,
                    "created_at": self.state.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "root_execution_id": self.state.root_id,
                },
                self.state.spec.as_dict,
            ),
        )

    def _creation_time(self) -> datetime:
        # Tasks created in one step get distinct, increasing creation times,
        # so "creation order" survives a round trip through the database.
        self._created += 1
        return self.now + timedelta(microseconds=self._created - 1)

    def _latest_runs(self) -> dict[str, TaskRun]:
        """Task name -> its latest run, rebuilt only after a task changed."""
        if self._views is None:
            self._views = {t.name: t for t in self._ordered()}
        return self._views

    def _ordered(self) -> list[TaskRun]:
        """The task runs in creation order (ties in the order they were added)."""
        if self._order is None:
            ordered = sorted(self.tasks.values(), key=_CREATED_AT)
            self._order = [t.id for t in ordered]
            return ordered
        tasks = self.tasks
        return [tasks[task_id] for task_id in self._order]

    def _put(self, task: TaskRun) -> TaskRun:
        previous = self.tasks.get(task.id)
        self.tasks[task.id] = task
        order = self._order
        if order is not None and (previous is None or previous.created_at != task.created_at):
            if previous is None and (
                not order or self.tasks[order[-1]].created_at <= task.created_at
            ):
                order.append(task.id)
            else:
                self._order = None
        self.changed = True
        self._views = None
        return task

    def _set_execution(self, **changes: Any) -> None:
        self.state = dataclasses.replace(self.state, updated_at=self.now, **changes)
        self.changed = True

    def outcome(self) -> Outcome:
        if not self.changed:
            return Outcome(state=self.state)
        state = dataclasses.replace(self.state, tasks=tuple(self._ordered()))
        if self.state.state in COMPLETED and self._initial_state not in COMPLETED:
            self._notify_parent(state)
        return Outcome(state=state, commands=tuple(self.commands))

    def _notify_parent(self, state: ExecutionState) -> None:
        if state.parent_task_id and state.parent_execution_id:
            self.commands.append(
                NotifyParent(
                    parent_execution_id=state.parent_execution_id,
                    parent_task_id=state.parent_task_id,
                    child_id=state.id,
                    failed=state.state is not State.SUCCESS,
                    output=state.output,
                    state_info=state.state_info,
                )
            )

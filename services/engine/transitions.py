"""Completing a task: its result, what it publishes, and where its transitions lead.

A mixin of the machine's step scratchpad (`levante.engine.machine._Run`): it
reads and writes the same state. Publishing follows the pike spec's scopes
(branch, global, atomic) with `on-complete` publishing merged into
`on-success` / `on-error`; transitions name tasks or engine commands
(`fail`, `succeed`, `pause`, with an optional message).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from levante.engine.state import TaskRun
from levante.errors import ExpressionError
from levante.language.spec import TaskSpec, Transition, TransitionKind, WorkflowType
from levante.states import State

if TYPE_CHECKING:
    from levante.engine.machine import _Run as _Base
else:
    _Base = object


class TransitionsMixin(_Base):
    """Task completion, publishing and transitions of one step."""

    def _complete_task(
        self, task: TaskRun, spec: TaskSpec, outcome: State, *, result: Any, info: str | None = None
    ) -> None:
        task = dataclasses.replace(
            task,
            state=outcome,
            state_info=info,
            result=result if self._keep_result(task, spec) else None,
            finished_at=self.now,
            updated_at=self.now,
        )
        try:
            published, global_values = self._publish(task, spec, outcome)
        except ExpressionError as error:
            info = f"Failed to publish the result of task '{spec.name}': {error}"
            task = dataclasses.replace(task, state=State.ERROR, state_info=info, result=info)
            published, global_values = {}, {}
        task = self._put(dataclasses.replace(task, published=published))
        if global_values:
            self._set_execution(globals={**self.state.globals, **global_values})
        if self.state.state is State.RUNNING:
            self._run_transitions(task, spec)
        # else: paused; the transitions run on resume

    def _publish(
        self, task: TaskRun, spec: TaskSpec, outcome: State
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """What a completed task publishes: (branch values, global values).

        `publish` / `publish-on-error` publish to the branch; the advanced
        form's `publish` under on-complete is the default that on-success /
        on-error override, each with `branch`, `global` and `atomic` scopes.
        Atomic is global published inside this step, which the engine applies
        under the execution tree's lock, so read-modify-write is safe.
        """
        plain = spec.publish if outcome is State.SUCCESS else spec.publish_on_error
        specific = spec.on_success_publish if outcome is State.SUCCESS else spec.on_error_publish
        branch = dict(self._evaluate(plain, task.in_context, current=task) or {})
        global_values: dict[str, Any] = {}
        for clause in (spec.on_complete_publish, specific):
            if not clause:
                continue
            branch.update(self._evaluate(clause.get("branch") or {}, task.in_context, current=task))
            for scope in ("global", "atomic"):
                if clause.get(scope):
                    values = self._evaluate(clause[scope], task.in_context, current=task)
                    global_values.update(values)
                    # Later scopes read what earlier ones wrote.
                    self.state = dataclasses.replace(
                        self.state, globals={**self.state.globals, **values}
                    )
        return branch, global_values

    def _run_transitions(self, task: TaskRun, spec: TaskSpec) -> None:
        if self.state.spec.type is WorkflowType.REVERSE:
            # Reverse workflows have no transitions: what runs next is what
            # the target task requires and is now ready.
            self._put(dataclasses.replace(task, processed=True))
            if task.state is State.SUCCESS:
                self._start_ready_required()
            return
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
                    # The task fails with its transitions, as in Mistral.
                    self._put(
                        dataclasses.replace(
                            task, processed=True, state=State.ERROR, state_info=info
                        )
                    )
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
        if transition.kind is TransitionKind.NOOP:
            return
        message = transition.message
        if message is not None:
            try:
                message = str(self._evaluate(message, out_context, current=task))
            except ExpressionError as error:
                self._finish(
                    State.ERROR,
                    f"Failed to evaluate the {transition.kind} message of task "
                    f"'{task.name}': {error}",
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

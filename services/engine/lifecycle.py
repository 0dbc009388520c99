"""Pause, resume and stop: the user's control over a running execution.

A mixin of the machine's step scratchpad (`levante.engine.machine._Run`):
it reads and writes the same state. Pausing lets running actions finish and
records their results, but starts nothing new: completed tasks keep their
transitions for the resume. Every control cascades to running sub-workflows.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from levante.engine.state import (
    Event,
    PauseExecution,
    RerunTask,
    ResumeExecution,
    Signal,
    StopExecution,
)
from levante.states import COMPLETED, State

if TYPE_CHECKING:
    from levante.engine.machine import _Run as _Base
else:
    _Base = object


class LifecycleMixin(_Base):
    """pause / resume / stop handlers for the step scratchpad."""

    def pause(self) -> None:
        if self.state.state is not State.RUNNING:
            return
        self._set_execution(state=State.PAUSED, state_info=None)
        self._signal_children(PauseExecution())

    def resume(self, event: ResumeExecution) -> None:
        if self.state.state is not State.PAUSED:
            return
        changes: dict[str, Any] = {"state": State.RUNNING, "state_info": None}
        if event.env:
            env = {**(self.state.params.get("env") or {}), **event.env}
            changes["params"] = {**self.state.params, "env": env}
        self._set_execution(**changes)
        self._signal_children(ResumeExecution(env=event.env))
        for task in self._ordered():
            if self.state.state is not State.RUNNING:
                return
            spec = self.state.spec.tasks[task.name]
            current = self.tasks[task.id]
            if current.state in COMPLETED and not current.processed:
                self._run_transitions(current, spec)
            elif current.state is State.IDLE:
                self._begin(current, spec)  # held by its pause-before policy
            elif current.policy.get("due_timers"):
                self._due_timers_after_resume(current)
            elif current.state is State.RUNNING and current.items is not None:
                self._continue_items(current, spec)
        self._settle()

    def rerun(self, event: RerunTask) -> None:
        """Runs a failed task again (mitaka spec mistral-rerun-update-env).

        The execution goes back to RUNNING, the env is updated if given, and
        the task starts over: all its actions (`reset`), or, for with-items
        without `reset`, only the items that failed. Earlier runs stay on
        record, superseded.
        """
        task = self.tasks.get(event.task_id)
        if task is None or task.state is not State.ERROR:
            return
        spec = self.state.spec.tasks[task.name]
        keep_items = task.items is not None and not event.reset
        actions = tuple(
            a
            if (keep_items and a.state is State.SUCCESS) or a.superseded
            else dataclasses.replace(a, superseded=True, updated_at=self.now)
            for a in task.actions
        )
        changes: dict[str, Any] = {"state": State.RUNNING, "state_info": None, "output": {}}
        if event.env:
            env = {**(self.state.params.get("env") or {}), **event.env}
            changes["params"] = {**self.state.params, "env": env}
        self._set_execution(**changes)
        policy = {k: v for k, v in task.policy.items() if k == "pause_before_done"}
        task = self._put(
            dataclasses.replace(
                task,
                state=State.RUNNING,
                state_info=None,
                result=None,
                published={},
                processed=False,
                error_handled=False,
                finished_at=None,
                updated_at=self.now,
                actions=actions,
                policy=policy,
                items=task.items if keep_items else None,
            )
        )
        if keep_items:
            self._continue_items(task, spec)
        else:
            self._run_task(task, spec)
        self._settle()

    def stop(self, event: StopExecution) -> None:
        if self.state.state in COMPLETED:
            return
        target = State(event.state)
        for task in self._ordered():
            if task.state not in COMPLETED:
                self._put(
                    dataclasses.replace(
                        task,
                        state=State.CANCELLED,
                        processed=True,
                        finished_at=self.now,
                        updated_at=self.now,
                    )
                )
        self._signal_children(
            StopExecution(state=str(State.CANCELLED), state_info=event.state_info)
        )
        result = None if target is State.CANCELLED else event.state_info
        self._set_execution(state=target, state_info=event.state_info, output={"result": result})

    def _signal_children(self, event: Event) -> None:
        for task in self.tasks.values():
            for run in task.live_actions:
                if run.kind == "workflow" and run.state not in COMPLETED:
                    self.commands.append(Signal(execution_id=run.id, event=event))

"""Flow within a direct or reverse workflow: with-items loops, joins, and
the tasks a reverse workflow needs.

A mixin of the machine's step scratchpad (`levante.engine.machine._Run`): it
reads and writes the same state. The decisions themselves are pure functions
elsewhere (`levante.engine.items`, `levante.engine.joins`).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from levante.engine import items as with_items
from levante.engine import joins
from levante.engine.state import TaskRun
from levante.errors import ExpressionError
from levante.language.spec import TaskSpec
from levante.states import State

if TYPE_CHECKING:
    from levante.engine.machine import _Run as _Base
else:
    _Base = object

ITEMS_FAILED = "One or more actions had failed."


class FlowMixin(_Base):
    """with-items, joins and reverse-workflow requirements of one step."""

    # -- with-items ---------------------------------------------------------

    def _start_items(self, task: TaskRun, spec: TaskSpec) -> None:
        try:
            values, capacity = with_items.expand(
                spec, lambda value: self._evaluate(value, task.in_context, current=task)
            )
        except (ExpressionError, with_items.ItemsError) as error:
            info = f"Failed to prepare with-items of task '{spec.name}': {error}"
            self._complete_task(task, spec, State.ERROR, result=info, info=info)
            return
        task = self._put(dataclasses.replace(task, items=values, capacity=capacity))
        if not values:
            self._complete_task(task, spec, State.SUCCESS, result=[])
            return
        self._continue_items(task, spec)

    def _continue_items(self, task: TaskRun, spec: TaskSpec) -> None:
        """Starts the next items within capacity, or completes the task after the last."""
        values = task.items or ()
        progress = task.index()
        running = progress.running
        limit = task.capacity or len(values)
        # Items not dispatched yet, in order (a rerun of failed items leaves gaps).
        waiting = progress.undispatched(len(values))
        index = next(waiting, None)
        while index is not None and running < limit and self.state.state is State.RUNNING:
            data = {**task.in_context, **values[index]}
            try:
                action_input = self._evaluate(spec.input, data, current=task)
            except ExpressionError as error:
                info = f"Failed to evaluate the input of task '{spec.name}' (item {index}): {error}"
                self._complete_task(task, spec, State.ERROR, result=info, info=info)
                return
            task = self._dispatch(task, spec, action_input, index=index)
            running += 1
            index = next(waiting, None)
        if running or index is not None:
            return
        ordered = sorted(task.live_actions, key=lambda a: a.index)
        results = [(a.output or {}).get("result") for a in ordered]
        if any(a.state is State.ERROR for a in ordered):
            self._complete_task(task, spec, State.ERROR, result=results, info=ITEMS_FAILED)
        else:
            self._complete_task(task, spec, State.SUCCESS, result=results)

    # -- joins --------------------------------------------------------------

    def _arrive_at_join(
        self, spec: TaskSpec, in_context: dict[str, Any], triggered_by: tuple[dict, ...]
    ) -> None:
        runs = [t for t in self._ordered() if t.name == spec.name]
        waiting = next((t for t in runs if t.state is State.WAITING), None)
        if waiting is None and runs and not self._triggered(runs[-1], triggered_by):
            # A late branch of a join that already ran (`join: one`, `join: N`):
            # it belongs to that run and starts nothing new.
            latest = runs[-1]
            self._put(
                dataclasses.replace(latest, triggered_by=(*latest.triggered_by, *triggered_by))
            )
            return
        if waiting is None:
            self._put(self._new_task(spec, in_context, triggered_by, State.WAITING))
            return
        self._put(
            dataclasses.replace(
                waiting,
                in_context={**waiting.in_context, **in_context},
                triggered_by=(*waiting.triggered_by, *triggered_by),
                updated_at=self.now,
            )
        )

    def _triggered(self, join_run: TaskRun, triggered_by: tuple[dict, ...]) -> bool:
        """Whether the task(s) behind `triggered_by` already triggered `join_run`."""
        names = {
            self.tasks[t["task_id"]].name
            for t in join_run.triggered_by
            if t["task_id"] in self.tasks
        }
        return any(
            self.tasks[t["task_id"]].name in names
            for t in triggered_by
            if t["task_id"] in self.tasks
        )

    def _settle(self) -> None:
        """Decides waiting joins until nothing changes, then checks for completion."""
        # Only join tasks wait; most workflows have none, and this runs every step.
        progress = joins.has_joins(self.state.spec)
        while progress and self.state.state is State.RUNNING:
            progress = False
            for task in self._ordered():
                if task.state is not State.WAITING:
                    continue
                spec = self.state.spec.tasks[task.name]
                decision = joins.decide(self.state.spec, spec, task, self.tasks.values())
                if decision.action == joins.RUN:
                    self._begin(task, spec)
                    progress = True
                elif decision.action == joins.FAIL:
                    info = f"Failed by tasks: {list(decision.blocking)}"
                    self._complete_task(task, spec, State.ERROR, result=info, info=info)
                    progress = True
        self._check_completion()

    # -- reverse workflows --------------------------------------------------

    def _needed(self) -> list[str]:
        """The target task of a reverse workflow and everything it requires, in definition order."""
        tasks = self.state.spec.tasks
        target = self.state.params.get("task_name")
        needed: set[str] = set()
        frontier = [target] if target in tasks else []
        while frontier:
            name = frontier.pop()
            if name not in needed:
                needed.add(name)
                frontier.extend(r for r in tasks[name].requires if r in tasks)
        return [name for name in tasks if name in needed]

    def _start_ready_required(self) -> None:
        runs = {t.name: t for t in self._ordered()}
        for name in self._needed():
            spec = self.state.spec.tasks[name]
            if name in runs or not all(
                r in runs and runs[r].state is State.SUCCESS for r in spec.requires
            ):
                continue
            context = dict(self.state.context)
            for required in spec.requires:
                context.update(runs[required].out_context())
            trigger = tuple({"task_id": runs[r].id, "event": "on-success"} for r in spec.requires)
            self._start_task(spec, context, triggered_by=trigger)
            runs = {t.name: t for t in self._ordered()}

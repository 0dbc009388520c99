"""What a watcher knows about a running execution tree: workflows, tasks, with-items progress.

A pure value, fed either by state-change events (`apply`, the proto3 JSON of
`levante.v2.ExecutionEvent` with its original field names) or by snapshots
of the REST resources (`merge_execution`, `merge_task`, `set_items`). The
views render it; nothing here does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

#: States an execution, task or action does not leave.
TERMINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})

_WORKFLOW = "EVENT_ENTITY_WORKFLOW_EXECUTION"
_TASK = "EVENT_ENTITY_TASK_EXECUTION"
_ACTION = "EVENT_ENTITY_ACTION_EXECUTION"


@dataclass(slots=True)
class ItemsProgress:
    """A with-items task's items: how many there are and how many finished."""

    total: int | None = None
    done: int = 0
    failed: int = 0


@dataclass(slots=True)
class TaskView:
    """One task execution as the watcher last saw it."""

    id: str
    name: str
    state: str = ""
    state_info: str = ""
    #: Set for with-items tasks only.
    items: ItemsProgress | None = None
    #: State per action execution id (events only; snapshots set `items`).
    actions: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class WorkflowView:
    """One workflow execution (the root or a sub-workflow) and its tasks, in start order."""

    id: str
    name: str
    state: str = ""
    state_info: str = ""
    #: The task that started it; None for the root.
    parent_task_id: str | None = None
    tasks: dict[str, TaskView] = field(default_factory=dict)


class ExecutionProgress:
    """The tree of one root execution, as far as the watcher has seen it."""

    def __init__(self, root_id: str) -> None:
        self.root_id = root_id
        self.workflows: dict[str, WorkflowView] = {}
        self.events = 0

    # -- reading ------------------------------------------------------------

    @property
    def root(self) -> WorkflowView | None:
        """The root execution, once known."""
        return self.workflows.get(self.root_id)

    @property
    def finished(self) -> bool:
        """Whether the root execution reached a final state."""
        root = self.root
        return root is not None and root.state in TERMINAL

    def children_of(self, task_id: str) -> list[WorkflowView]:
        """Sub-workflow executions a task started."""
        return [w for w in self.workflows.values() if w.parent_task_id == task_id]

    def task(self, task_id: str) -> TaskView | None:
        """A task anywhere in the tree."""
        for workflow in self.workflows.values():
            if task_id in workflow.tasks:
                return workflow.tasks[task_id]
        return None

    # -- events -------------------------------------------------------------

    def apply(self, event: dict[str, Any]) -> TaskView | None:
        """Applies one state-change event; returns the task an action event touched."""
        self.events += 1
        entity = event.get("entity", "")
        execution_id = event.get("execution_id", "")
        if entity == _WORKFLOW:
            workflow = self._workflow(execution_id, event.get("name", ""))
            workflow.state = event.get("new_state", "") or workflow.state
            workflow.state_info = event.get("state_info", "")
            if event.get("task_execution_id"):
                workflow.parent_task_id = event["task_execution_id"]
            return None
        workflow = self._workflow(execution_id, "")
        task_id = event.get("task_execution_id") or event.get("entity_id", "")
        if entity == _TASK:
            task = self._task(workflow, task_id, event.get("name", ""))
            task.state = event.get("new_state", "") or task.state
            task.state_info = event.get("state_info", "")
            return None
        if entity == _ACTION:
            task = self._task(workflow, task_id, "")
            task.actions[event.get("entity_id", "")] = event.get("new_state", "")
            if task.items is not None:
                _count(task)
            return task
        return None

    def set_items_total(self, task_id: str, total: int) -> None:
        """Marks a task as with-items with `total` items (found by looking the task up)."""
        task = self.task(task_id)
        if task is None:
            return
        if task.items is None:
            task.items = ItemsProgress()
        task.items.total = total
        _count(task)

    # -- snapshots ----------------------------------------------------------

    def merge_execution(self, execution: dict[str, Any]) -> WorkflowView:
        """Takes a workflow execution as the REST face shows it."""
        workflow = self._workflow(execution["id"], execution.get("workflow_name", ""))
        workflow.state = execution.get("state") or workflow.state
        workflow.state_info = execution.get("state_info") or ""
        if execution.get("task_execution_id"):
            workflow.parent_task_id = execution["task_execution_id"]
        return workflow

    def merge_task(self, task: dict[str, Any]) -> TaskView:
        """Takes a task execution as the REST face shows it (with-items total included)."""
        workflow = self._workflow(
            task.get("workflow_execution_id", ""), task.get("workflow_name", "")
        )
        view = self._task(workflow, task["id"], task.get("name", ""))
        view.state = task.get("state") or view.state
        view.state_info = task.get("state_info") or ""
        total = items_total(task)
        if total is not None:
            if view.items is None:
                view.items = ItemsProgress()
            view.items.total = total
        return view

    def set_items(self, task_id: str, actions: list[dict[str, Any]]) -> None:
        """Counts a with-items task's finished items from its action executions."""
        task = self.task(task_id)
        if task is None:
            return
        task.actions = {a["id"]: a.get("state", "") for a in actions}
        if task.items is None:
            task.items = ItemsProgress()
        _count(task)

    # -- helpers ------------------------------------------------------------

    def _workflow(self, execution_id: str, name: str) -> WorkflowView:
        workflow = self.workflows.get(execution_id)
        if workflow is None:
            workflow = self.workflows[execution_id] = WorkflowView(id=execution_id, name=name)
        elif name and not workflow.name:
            workflow.name = name
        return workflow

    def _task(self, workflow: WorkflowView, task_id: str, name: str) -> TaskView:
        task = workflow.tasks.get(task_id)
        if task is None:
            task = workflow.tasks[task_id] = TaskView(id=task_id, name=name)
        elif name and not task.name:
            task.name = name
        return task


def items_total(task: dict[str, Any]) -> int | None:
    """A with-items task's item count from its `runtime_context`; None for other tasks."""
    context = task.get("runtime_context")
    if isinstance(context, str):
        try:
            context = json.loads(context) if context else {}
        except ValueError:
            return None
    if not isinstance(context, dict):
        return None
    with_items = context.get("with_items")
    if not isinstance(with_items, dict):
        return None
    count = with_items.get("count")
    return count if isinstance(count, int) else None


def _count(task: TaskView) -> None:
    assert task.items is not None
    states = list(task.actions.values())
    task.items.done = sum(1 for s in states if s in TERMINAL)
    task.items.failed = sum(1 for s in states if s == "ERROR")

"""Mistral's execution report and sub-execution listings, built from an execution's tree.

`GET /v2/executions/{id}/report` (the CLI's `execution-get-report`) and
`GET /v2/executions/{id}/executions`, `GET /v2/tasks/{id}/executions`
(`execution-get-sub-executions`, `task-get-sub-executions`). The walks are
pure functions over an `ExecutionTree`; only `Reports` touches the database.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from levante.api import identity
from levante.persistence.db import Database
from levante.persistence.repository import ActionExecutionRecord, ExecutionRecord, TaskRecord
from levante.persistence.trees import ExecutionTree, load_tree

_COUNTED = {
    "RUNNING": "running_tasks_count",
    "RUNNING_DELAYED": "running_tasks_count",
    "SUCCESS": "success_tasks_count",
    "ERROR": "error_tasks_count",
    "IDLE": "idle_tasks_count",
    "WAITING": "idle_tasks_count",
    "PAUSED": "paused_tasks_count",
}


@dataclass(frozen=True, slots=True)
class Walk:
    """How far to go: `errors_only` follows tasks in ERROR only; depth -1 is unlimited."""

    errors_only: bool = False
    max_depth: int = -1

    def beyond(self, depth: int) -> bool:
        """Whether `depth` lies past the maximum depth."""
        return 0 <= self.max_depth < depth


@dataclass(slots=True)
class _Statistics:
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "total_tasks_count",
                "running_tasks_count",
                "success_tasks_count",
                "error_tasks_count",
                "idle_tasks_count",
                "paused_tasks_count",
            ),
            0,
        )
    )

    def count(self, task: TaskRecord) -> None:
        self.counts["total_tasks_count"] += 1
        if task.state in _COUNTED:
            self.counts[_COUNTED[task.state]] += 1

    def json(self) -> dict[str, int]:
        # Levante makes no estimate of the time left; Mistral reports 0 then too.
        return {**self.counts, "estimated_time": 0}


def _time(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def _entry(record: ExecutionRecord | TaskRecord | ActionExecutionRecord, name: str) -> dict:
    return {
        "id": record.id,
        "name": name,
        "created_at": _time(record.created_at),
        "updated_at": _time(record.updated_at),
        "state": record.state,
        "state_info": record.state_info,
    }


def execution_report(
    tree: ExecutionTree, execution_id: str, walk: Walk, *, statistics_only: bool = False
) -> dict[str, Any]:
    """Mistral's report: task statistics and the tree of executions, tasks and actions."""
    statistics = _Statistics()
    root = _report_execution(tree, tree.execution(execution_id), walk, statistics, depth=0)
    report: dict[str, Any] = {"statistics": statistics.json()}
    if not statistics_only:
        report["root_workflow_execution"] = root
    return report


def _report_execution(
    tree: ExecutionTree, execution: ExecutionRecord, walk: Walk, stats: _Statistics, depth: int
) -> dict[str, Any]:
    entry = _entry(execution, execution.workflow_name)
    if walk.beyond(depth):
        return entry  # shown, but not entered
    entry["task_executions"] = [
        _report_task(tree, task, walk, stats, depth)
        for task in tree.tasks_of(execution.id)
        if not walk.errors_only or task.state == "ERROR"
    ]
    return entry


def _report_task(
    tree: ExecutionTree, task: TaskRecord, walk: Walk, stats: _Statistics, depth: int
) -> dict[str, Any]:
    stats.count(task)
    actions = [
        {
            "accepted": action.accepted,
            # No heartbeat is stored; the last time the action changed stands in.
            "last_heartbeat": _time(action.updated_at),
            **_entry(action, action.name),
        }
        for action in tree.actions_of(task.id)
    ]
    children = [
        _report_execution(tree, child, walk, stats, depth + 1)
        for child in tree.children_of(task.id)
    ]
    entry = {"action_executions": actions, "workflow_executions": children}
    return {**entry, **_entry(task, task.name)}


def execution_and_descendants(
    tree: ExecutionTree, execution_id: str, walk: Walk, *, depth: int = 0
) -> list[ExecutionRecord]:
    """The execution, then the sub-workflow executions under it, depth first."""
    if walk.beyond(depth):
        return []
    found = [tree.execution(execution_id)]
    for task in tree.tasks_of(execution_id):
        found += task_descendants(tree, task, walk, depth=depth + 1)
    return found


def task_descendants(
    tree: ExecutionTree, task: TaskRecord, walk: Walk, *, depth: int = 0
) -> list[ExecutionRecord]:
    """The sub-workflow executions a task started, each followed by its own."""
    if walk.errors_only and task.state != "ERROR":
        return []
    found: list[ExecutionRecord] = []
    for child in tree.children_of(task.id):
        found += execution_and_descendants(tree, child.id, walk, depth=depth)
    return found


class Reports:
    """Loads an execution's tree and answers reports and sub-execution listings."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def report(
        self, execution_id: str, walk: Walk, *, statistics_only: bool
    ) -> dict[str, Any]:
        """The report of an execution; raises NotFoundError."""
        tree = await asyncio.to_thread(
            load_tree, self._database, execution_id=execution_id, project_id=identity.project_id()
        )
        return execution_report(tree, execution_id, walk, statistics_only=statistics_only)

    async def execution_executions(self, execution_id: str, walk: Walk) -> list[ExecutionRecord]:
        """An execution and its descendants; raises NotFoundError."""
        tree = await asyncio.to_thread(
            load_tree, self._database, execution_id=execution_id, project_id=identity.project_id()
        )
        return execution_and_descendants(tree, execution_id, walk)

    async def task_executions(self, task_id: str, walk: Walk) -> list[ExecutionRecord]:
        """The executions a task started, with their descendants; raises NotFoundError."""
        tree = await asyncio.to_thread(
            load_tree, self._database, task_id=task_id, project_id=identity.project_id()
        )
        task = next(t for t in tree.tasks if t.id == task_id)
        return task_descendants(tree, task, walk)

"""Mistral's execution report and sub-execution listings, built from an execution's tree.

`GET /v2/executions/{id}/report` (the CLI's `execution-get-report`) and
`GET /v2/executions/{id}/executions`, `GET /v2/tasks/{id}/executions`
(`execution-get-sub-executions`, `task-get-sub-executions`). The walks are
pure functions over an `ExecutionTree`; only `Reports` touches the database.
The report also carries Levante's error analysis (`levante.api.analysis`):
`root_cause`, `path`, `error_class`, `summary`, and `trace` on request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select

from levante import language
from levante.actions import ActionCatalogue
from levante.api import identity
from levante.api.analysis import analyze, scrub_all
from levante.api.redaction import Redactor
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import ActionExecutionRecord, ExecutionRecord, TaskRecord
from levante.persistence.trees import ExecutionTree, load_tree
from levante.security import secrets

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

    def __init__(self, database: Database, *, catalogue: ActionCatalogue | None = None) -> None:
        self._database = database
        # Declares which action parameters are secret (masked in root causes).
        self._catalogue = catalogue

    async def report(
        self,
        execution_id: str,
        walk: Walk,
        *,
        statistics_only: bool,
        include_trace: bool = False,
    ) -> dict[str, Any]:
        """The report of an execution with its error analysis (not with `statistics_only`);
        raises NotFoundError."""
        tree = await asyncio.to_thread(
            load_tree, self._database, execution_id=execution_id, project_id=identity.project_id()
        )
        report = execution_report(tree, execution_id, walk, statistics_only=statistics_only)
        if statistics_only:
            return report  # Mistral's meaning: the statistics alone
        analysis = analyze(tree, execution_id)
        hidden: Collection[str] = ()
        action_secrets: Collection[str] = ()
        cause = analysis.root_cause
        if cause is not None:
            hidden = await asyncio.to_thread(self._hidden_names, cause.execution.id)
            entry = (
                self._catalogue.get(cause.action.name) if self._catalogue and cause.action else None
            )
            action_secrets = entry.secret_parameters if entry is not None else ()
        report.update(
            analysis.json(
                tree, include_trace=include_trace, hidden=hidden, action_secrets=action_secrets
            )
        )
        # Mistral's tree shows every state_info: keep the failure's secrets out of it too,
        # and the tree's own (its hidden values, kept sealed on its root).
        report = scrub_all(
            report, analysis.secrets(tree, hidden=hidden, action_secrets=action_secrets)
        )
        found = await asyncio.to_thread(Redactor(self._database).tree_secrets, [execution_id])
        return secrets.redact(report, found.get(execution_id, frozenset()))

    def _hidden_names(self, execution_id: str) -> frozenset[str]:
        with self._database.read() as session:
            row = session.execute(
                select(
                    models.WorkflowExecution.definition, models.WorkflowExecution.workflow_name
                ).where(models.WorkflowExecution.id == execution_id)
            ).first()
        return hidden_names(row[0], row[1]) if row is not None and row[0] else frozenset()

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


@lru_cache(maxsize=256)
def hidden_names(definition: str, workflow_name: str) -> frozenset[str]:
    """The inputs a workflow declares hidden (secret), if its language version has them.

    Reads a `hidden` list on the workflow, or a `hidden` flag on its input
    parameters; nothing when the definition has neither (or does not parse).
    """
    try:
        document = language.parse(definition)
    except Exception:
        return frozenset()
    short = workflow_name.split(".")[-1]
    for spec in document.workflows:
        if spec.name == workflow_name or spec.name.split(".")[-1] == short:
            names = {str(n) for n in getattr(spec, "hidden", ()) or ()}
            names |= {p.name for p in spec.input if getattr(p, "hidden", False)}
            return frozenset(names)
    return frozenset()

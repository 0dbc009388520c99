"""An execution's whole tree in three queries: executions, tasks and action executions.

Reports and sub-execution listings walk the tree in memory instead of
querying once per task (Mistral's report issues a query per task).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import load_only

from levante.errors import NotFoundError
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import (
    ActionExecutionRecord,
    ExecutionRecord,
    TaskRecord,
    _record,
)
from levante.security import secrets


@dataclass(frozen=True, slots=True)
class ExecutionTree:
    """Every execution, task and action execution under one root execution."""

    executions: tuple[ExecutionRecord, ...]
    tasks: tuple[TaskRecord, ...]
    actions: tuple[ActionExecutionRecord, ...]

    def execution(self, execution_id: str) -> ExecutionRecord:
        """One execution of the tree; raises NotFoundError."""
        for record in self.executions:
            if record.id == execution_id:
                return record
        raise NotFoundError(f"WorkflowExecution not found [id={execution_id}]")

    def tasks_of(self, execution_id: str) -> list[TaskRecord]:
        """An execution's tasks, oldest first."""
        return [t for t in self.tasks if t.workflow_execution_id == execution_id]

    def actions_of(self, task_id: str) -> list[ActionExecutionRecord]:
        """A task's action executions, oldest first."""
        return [a for a in self.actions if a.task_execution_id == task_id]

    def children_of(self, task_id: str) -> list[ExecutionRecord]:
        """The sub-workflow executions a task started, oldest first."""
        return [e for e in self.executions if e.task_execution_id == task_id]


def load_tree(
    database: Database,
    *,
    execution_id: str = "",
    task_id: str = "",
    project_id: str | None = None,
) -> ExecutionTree:
    """The tree holding an execution (or a task) of the project, if given; raises NotFoundError.

    It is loaded to be shown: sealed values and the tree's secret texts are
    masked (`levante.security.secrets.redact`).
    """
    with database.read() as session:
        if task_id:
            task = session.get(models.TaskExecution, task_id)
            if task is None or (project_id is not None and task.project_id != project_id):
                raise NotFoundError(f"TaskExecution not found [id={task_id}]")
            root_id = task.root_execution_id
        else:
            row = session.get(models.WorkflowExecution, execution_id)
            if row is None or (project_id is not None and row.project_id != project_id):
                raise NotFoundError(f"WorkflowExecution not found [id={execution_id}]")
            root_id = row.root_execution_id or row.id
        executions, tasks, actions = (
            models.WorkflowExecution,
            models.TaskExecution,
            models.ActionExecution,
        )
        found_executions = session.scalars(
            select(executions)
            .options(_only(executions, ExecutionRecord))
            .where(or_(executions.id == root_id, executions.root_execution_id == root_id))
            .order_by(executions.created_at, executions.id)
        ).all()
        found_tasks = session.scalars(
            select(tasks)
            .options(_only(tasks, TaskRecord))
            .where(tasks.root_execution_id == root_id)
            .order_by(tasks.created_at, tasks.id)
        ).all()
        found_actions = session.scalars(
            select(actions)
            .options(_only(actions, ActionExecutionRecord))
            .where(actions.root_execution_id == root_id)
            .order_by(actions.created_at, actions.item_index, actions.id)
        ).all()
        column = session.scalar(select(executions.secrets).where(executions.id == root_id))
        hidden = secrets.readable_texts(column)
        return ExecutionTree(
            executions=tuple(
                _shown(_record(ExecutionRecord, r), hidden, _EXECUTION_VALUES)
                for r in found_executions
            ),
            tasks=tuple(_shown(_record(TaskRecord, r), hidden, _TASK_VALUES) for r in found_tasks),
            actions=tuple(
                _shown(_record(ActionExecutionRecord, r), hidden, _ACTION_VALUES)
                for r in found_actions
            ),
        )


_EXECUTION_VALUES = ("input", "output", "params", "published_global", "state_info")
_TASK_VALUES = ("published", "result", "runtime_context", "state_info")
_ACTION_VALUES = ("input", "output", "params", "state_info")


def _shown(record: Any, hidden: frozenset[str], fields: tuple[str, ...]) -> Any:
    """A record with its sealed values and secret texts masked."""
    return dataclasses.replace(
        record, **{name: secrets.redact(getattr(record, name), hidden) for name in fields}
    )


@dataclass(frozen=True, slots=True)
class ExecutionFamily:
    """An execution, the root of its tree, and the executions under it (itself included)."""

    execution: ExecutionRecord
    root_id: str
    members: frozenset[str]


def load_family(
    database: Database, execution_id: str, *, project_id: str | None = None
) -> ExecutionFamily:
    """An execution (of the project, if given) and the ids of its descendants, in two narrow
    queries; raises NotFoundError.

    For watchers, which learn later children from events: only ids and
    parent links are read, never the tasks' or actions' data.
    """
    executions, tasks = models.WorkflowExecution, models.TaskExecution
    with database.read() as session:
        row = session.get(executions, execution_id)
        if row is None or (project_id is not None and row.project_id != project_id):
            raise NotFoundError(f"WorkflowExecution not found [id={execution_id}]")
        record = _record(ExecutionRecord, row)
        root_id = row.root_execution_id or row.id
        if root_id == execution_id:
            members = session.scalars(
                select(executions.id).where(executions.root_execution_id == root_id)
            ).all()
            return ExecutionFamily(record, root_id, frozenset({execution_id, *members}))
        # Parent of each execution of the tree: the workflow execution of its task.
        links = session.execute(
            select(executions.id, tasks.workflow_execution_id)
            .join(tasks, tasks.id == executions.task_execution_id)
            .where(executions.root_execution_id == root_id)
        ).all()
    children: dict[str, list[str]] = {}
    for child, parent in links:
        children.setdefault(parent, []).append(child)
    members_found, pending = {execution_id}, [execution_id]
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in members_found:
                members_found.add(child)
                pending.append(child)
    return ExecutionFamily(record, root_id, frozenset(members_found))


def _only(model: Any, record: type) -> Any:
    """Loads just the columns a record shows (not definitions, contexts, items)."""
    return load_only(*(getattr(model, f.name) for f in dataclasses.fields(record)))

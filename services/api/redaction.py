"""What the API shows of executions, tasks and action executions: secrets masked.

Before a record leaves the API (either face, reports, sub-execution lists),
its sealed values become `******`, and so does every occurrence of one of
its tree's secret texts anywhere else in it (a result that echoes a
password, an error message quoting a token). The tree's secrets are read in
one query per page of records. Values of an action's secret parameters
(`@secret`) are masked by name too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.repository import ActionExecutionRecord, ExecutionRecord, TaskRecord
from levante.security import secrets

R = TypeVar("R")
_NONE: frozenset[str] = frozenset()


class Redactor:
    """Masks secrets in records about to be shown.

    Args:
        database: Where the execution trees' secrets are read.
        secret_parameters: An action's secret parameter names, by action name.
    """

    def __init__(
        self,
        database: Database,
        *,
        secret_parameters: Callable[[str], frozenset[str]] = lambda name: frozenset(),
    ) -> None:
        self._db = database
        self._secret_parameters = secret_parameters

    def tree_secrets(self, execution_ids: Iterable[str]) -> dict[str, frozenset[str]]:
        """Execution id -> the secret texts of its tree (only trees that have any)."""
        wanted = sorted({i for i in execution_ids if i})
        if not wanted:
            return {}
        execution, root = models.WorkflowExecution, aliased(models.WorkflowExecution)
        statement = (
            select(execution.id, root.secrets)
            .join(root, root.id == func.coalesce(execution.root_execution_id, execution.id))
            .where(execution.id.in_(wanted), root.secrets.is_not(None))
        )
        with self._db.read() as session:
            rows = session.execute(statement).all()
        return {execution_id: secrets.readable_texts(column) for execution_id, column in rows}

    def executions(self, records: Sequence[ExecutionRecord]) -> list[ExecutionRecord]:
        """Executions as they may be shown."""
        found = self.tree_secrets(r.id for r in records)
        return [_execution(r, found.get(r.id, _NONE)) for r in records]

    def execution(self, record: ExecutionRecord) -> ExecutionRecord:
        """One execution as it may be shown."""
        return self.executions([record])[0]

    def tasks(self, records: Sequence[TaskRecord]) -> list[TaskRecord]:
        """Task executions as they may be shown."""
        found = self.tree_secrets(r.workflow_execution_id for r in records)
        return [_task(r, found.get(r.workflow_execution_id, _NONE)) for r in records]

    def task(self, record: TaskRecord) -> TaskRecord:
        """One task execution as it may be shown."""
        return self.tasks([record])[0]

    def action_executions(
        self, records: Sequence[ActionExecutionRecord]
    ) -> list[ActionExecutionRecord]:
        """Action executions as they may be shown."""
        found = self.tree_secrets(r.workflow_execution_id or "" for r in records)
        return [self._action(r, found.get(r.workflow_execution_id or "", _NONE)) for r in records]

    def action_execution(self, record: ActionExecutionRecord) -> ActionExecutionRecord:
        """One action execution as it may be shown."""
        return self.action_executions([record])[0]

    def _action(
        self, record: ActionExecutionRecord, found: frozenset[str]
    ) -> ActionExecutionRecord:
        named = self._secret_parameters(record.name)
        action_input = {
            k: secrets.MASK if k in named else v for k, v in (record.input or {}).items()
        }
        return dataclasses.replace(
            record,
            input=secrets.redact(action_input, found),
            output=secrets.redact(record.output, found),
            params=secrets.redact(record.params, found),
            state_info=_text(record.state_info, found),
        )


def _text(value: str | None, found: frozenset[str]) -> str | None:
    return secrets.scrub(value, found) if value else value


def _execution(record: ExecutionRecord, found: frozenset[str]) -> ExecutionRecord:
    return dataclasses.replace(
        record,
        input=secrets.redact(record.input, found),
        output=secrets.redact(record.output, found),
        params=secrets.redact(record.params, found),
        published_global=secrets.redact(record.published_global, found),
        state_info=_text(record.state_info, found),
        description=_text(record.description, found) or "",
    )


def _task(record: TaskRecord, found: frozenset[str]) -> TaskRecord:
    return dataclasses.replace(
        record,
        published=secrets.redact(record.published, found),
        result=secrets.redact(record.result, found),
        runtime_context=secrets.redact(record.runtime_context, found),
        state_info=_text(record.state_info, found),
    )


__all__ = ["Redactor"]

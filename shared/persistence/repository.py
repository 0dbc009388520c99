"""The repository the API reads and writes resources through.

It passes frozen record values, never ORM rows, and names its failures
(`NotFoundError`, `AlreadyExistsError`). Listing uses the one filter grammar
of `levante.listing` with keyset paging on (sort keys..., id).

Project isolation: every read and write takes the caller's `project_id`;
another project's execution, task or action execution does not exist for
it (NotFoundError, never a hint that it does). `project_id=None` reads
across projects: administrators listing `all_projects`, and internal
callers (the scheduler).
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Integer,
    Text,
    and_,
    cast,
    delete,
    false,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from levante.errors import AlreadyExistsError, ForbiddenError, InputError, NotFoundError
from levante.listing import Filter, Order
from levante.persistence import members, models
from levante.persistence.db import Database

UUID_PATTERN = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
MAX_LIMIT = 1000
FINISHED = ("SUCCESS", "ERROR", "CANCELLED")


def is_uuid(text: str) -> bool:
    """Whether `text` looks like a UUID (how Mistral tells ids from names)."""
    return bool(UUID_PATTERN.match(text))


@dataclass(frozen=True, slots=True)
class WorkflowRecord:
    """A stored workflow definition."""

    id: str
    name: str
    namespace: str
    definition: str
    checksum: str
    input: str
    interface: dict[str, Any]
    tags: list[str]
    scope: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """A stored workflow execution."""

    id: str
    workflow_id: str
    workflow_name: str
    workflow_namespace: str
    description: str
    tags: list[str]
    params: dict[str, Any]
    input: dict[str, Any]
    output: dict[str, Any]
    published_global: dict[str, Any]
    state: str
    state_info: str | None
    task_execution_id: str | None
    root_execution_id: str | None
    scope: str
    project_id: str
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """A stored task execution."""

    id: str
    name: str
    type: str
    workflow_execution_id: str
    workflow_id: str
    workflow_name: str
    workflow_namespace: str
    state: str
    state_info: str | None
    published: dict[str, Any]
    result: Any
    runtime_context: dict[str, Any]
    processed: bool
    tags: list[str]
    project_id: str
    created_at: datetime
    updated_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class ActionExecutionRecord:
    """A stored action execution."""

    id: str
    name: str
    task_execution_id: str | None
    task_name: str | None
    workflow_execution_id: str | None
    workflow_name: str | None
    workflow_namespace: str
    state: str
    state_info: str | None
    accepted: bool
    input: dict[str, Any]
    output: dict[str, Any] | None
    params: dict[str, Any]
    description: str
    tags: list[str] | None
    project_id: str
    created_at: datetime
    updated_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewWorkflow:
    """A workflow to store: its name and definition text, with derived fields."""

    name: str
    definition: str
    checksum: str
    input: str
    interface: dict[str, Any]
    tags: list[str]


R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class ListQuery:
    """What to list: filters, ordering, page size and the last id of the previous page."""

    filters: tuple[Filter, ...] = ()
    order: tuple[Order, ...] = (Order("created_at"),)
    limit: int = MAX_LIMIT
    marker: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[R]):
    """One page of records; `next_marker` is set when the page is full."""

    items: tuple[R, ...]
    next_marker: str | None = None


def _record(cls: type[R], row: Any) -> R:
    return cls(**{f.name: getattr(row, f.name) for f in dataclasses.fields(cls)})  # type: ignore[arg-type]


class Repository:
    """Reads and writes Levante's resources."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- workflows ----------------------------------------------------------

    def create_workflows(
        self,
        workflows: list[NewWorkflow],
        *,
        namespace: str,
        scope: str,
        project_id: str,
        now: datetime,
    ) -> list[WorkflowRecord]:
        """Stores new workflows; raises AlreadyExistsError if a name is taken."""
        rows = [
            models.WorkflowDefinition(
                id=str(uuid.uuid4()),
                name=w.name,
                namespace=namespace,
                definition=w.definition,
                checksum=w.checksum,
                input=w.input,
                interface=w.interface,
                tags=w.tags,
                scope=scope,
                project_id=project_id,
                created_at=now,
                updated_at=None,
            )
            for w in workflows
        ]
        try:
            with self.db.write() as session:
                for row in rows:
                    existing = self._find_workflow(session, row.name, namespace, project_id)
                    if existing is not None:
                        raise _duplicate(row.name, namespace)
                    session.add(row)
        except IntegrityError as error:
            raise _duplicate(rows[0].name, namespace) from error
        return [_record(WorkflowRecord, row) for row in rows]

    def update_workflows(
        self,
        workflows: list[NewWorkflow],
        *,
        namespace: str,
        scope: str,
        project_id: str,
        now: datetime,
    ) -> list[WorkflowRecord]:
        """Replaces definitions of existing workflows; raises NotFoundError for a missing one."""
        updated = []
        with self.db.write() as session:
            for w in workflows:
                row = self._find_workflow(session, w.name, namespace, project_id)
                if row is None and find_by_name(
                    session, models.WorkflowDefinition, w.name, namespace, None, public=True
                ):
                    raise ForbiddenError(
                        f"Can not update workflow of other users. [workflow_identifier={w.name}]"
                    )
                if row is None:
                    raise NotFoundError(
                        f"Workflow not found [workflow_identifier={w.name}, namespace={namespace}]"
                    )
                row.definition, row.checksum, row.input = w.definition, w.checksum, w.input
                row.interface, row.tags, row.scope, row.updated_at = w.interface, w.tags, scope, now
                updated.append(row)
            session.flush()
            return [_record(WorkflowRecord, row) for row in updated]

    def update_workflow(
        self,
        identifier: str,
        workflow: NewWorkflow,
        *,
        namespace: str,
        scope: str,
        project_id: str,
        now: datetime,
    ) -> WorkflowRecord:
        """Replaces one workflow, found by id or name, with a new definition (maybe renamed).

        Raises NotFoundError, ForbiddenError (another project's workflow), or
        AlreadyExistsError when the new name is taken in its namespace.
        """
        with self.db.write() as session:
            row = self._resolve_workflow(session, identifier, namespace, project_id)
            if row.project_id != project_id:
                raise ForbiddenError(
                    f"Can not update workflow of other users. [workflow_identifier={identifier}]"
                )
            if workflow.name != row.name:
                if self._find_workflow(session, workflow.name, row.namespace, project_id):
                    raise _duplicate(workflow.name, row.namespace)
                row.name = workflow.name
            row.definition, row.checksum = workflow.definition, workflow.checksum
            row.input, row.interface, row.tags = workflow.input, workflow.interface, workflow.tags
            row.scope, row.updated_at = scope, now
            session.flush()
            return _record(WorkflowRecord, row)

    def get_workflow(
        self, identifier: str, *, namespace: str = "", project_id: str | None
    ) -> WorkflowRecord:
        """A workflow by id (if visible to the project), or by name in `namespace`.

        By name, the project's own workflow, else a public one; a workflow
        shared with the project is named by id only (the sharing spec).
        Raises NotFoundError.
        """
        with self.db.read() as session:
            row = self._resolve_workflow(session, identifier, namespace, project_id)
            return _record(WorkflowRecord, row)

    def delete_workflow(self, identifier: str, *, namespace: str = "", project_id: str) -> None:
        """Deletes a workflow by id or name, with its memberships.

        Raises NotFoundError, ForbiddenError (another project's workflow), or
        FailedPreconditionError while cron triggers of projects it is shared
        with use it.
        """
        with self.db.write() as session:
            row = self._resolve_workflow(session, identifier, namespace, project_id)
            if row.project_id != project_id:
                raise ForbiddenError(
                    f"Can not delete workflow of other users. [workflow_identifier={identifier}]"
                )
            members.check_unused_by_members(session, row.id)
            members.forget(session, "workflow", [row.id])
            session.delete(row)

    def list_workflows(
        self, query: ListQuery, *, project_id: str | None = None
    ) -> Page[WorkflowRecord]:
        """A page of workflows; with `project_id`, those the project may see.

        A project sees its own workflows, public ones, and the workflows
        shared with it that it accepted.
        """
        where = ()
        if project_id is not None:
            where = (members.visible(models.WorkflowDefinition, "workflow", project_id),)
        return self._list(models.WorkflowDefinition, WorkflowRecord, query, where=where)

    # -- executions, tasks, action executions -------------------------------

    def get_execution(self, execution_id: str, *, project_id: str | None = None) -> ExecutionRecord:
        """An execution by id (of the project, when given); raises NotFoundError."""
        return self._get(
            models.WorkflowExecution,
            ExecutionRecord,
            execution_id,
            "WorkflowExecution",
            project_id=project_id,
        )

    def list_executions(
        self, query: ListQuery, *, project_id: str | None = None
    ) -> Page[ExecutionRecord]:
        """A page of executions (of the project, when given)."""
        return self._list(
            models.WorkflowExecution,
            ExecutionRecord,
            query,
            where=_owned(models.WorkflowExecution, project_id),
        )

    def update_execution_description(
        self, execution_id: str, description: str, *, now: datetime, project_id: str | None = None
    ) -> ExecutionRecord:
        """Renames an execution; raises NotFoundError."""
        with self.db.write() as session:
            row = _owned_row(session, models.WorkflowExecution, execution_id, project_id)
            if row is None:
                raise NotFoundError(f"WorkflowExecution not found [id={execution_id}]")
            row.description, row.updated_at = description, now
            session.flush()
            return _record(ExecutionRecord, row)

    def delete_execution(
        self, execution_id: str, *, force: bool = False, project_id: str | None = None
    ) -> None:
        """Deletes an execution with its tasks, actions and sub-workflows.

        Raises NotFoundError, or ForbiddenError for an unfinished execution
        unless `force`.
        """
        with self.db.write() as session:
            row = _owned_row(session, models.WorkflowExecution, execution_id, project_id)
            if row is None:
                raise NotFoundError(f"WorkflowExecution not found [id={execution_id}]")
            if not force and row.state not in FINISHED:
                raise ForbiddenError(
                    "Only completed executions can be deleted. Use --force to override this. "
                    f"Execution {execution_id} is in {row.state} state"
                )
            doomed = [execution_id]
            frontier = [execution_id]
            while frontier:
                task_ids = session.scalars(
                    select(models.TaskExecution.id).where(
                        models.TaskExecution.workflow_execution_id.in_(frontier)
                    )
                ).all()
                frontier = (
                    list(
                        session.scalars(
                            select(models.WorkflowExecution.id).where(
                                models.WorkflowExecution.task_execution_id.in_(task_ids)
                            )
                        ).all()
                    )
                    if task_ids
                    else []
                )
                doomed.extend(frontier)
            for table, column in (
                (models.ActionExecution, models.ActionExecution.workflow_execution_id),
                (models.TaskExecution, models.TaskExecution.workflow_execution_id),
                (models.WorkflowExecution, models.WorkflowExecution.id),
            ):
                session.execute(delete(table).where(column.in_(doomed)))

    def get_task(self, task_id: str, *, project_id: str | None = None) -> TaskRecord:
        """A task execution by id (of the project, when given); raises NotFoundError."""
        return self._get(
            models.TaskExecution, TaskRecord, task_id, "TaskExecution", project_id=project_id
        )

    def list_tasks(self, query: ListQuery, *, project_id: str | None = None) -> Page[TaskRecord]:
        """A page of task executions (of the project, when given)."""
        return self._list(
            models.TaskExecution, TaskRecord, query, where=_owned(models.TaskExecution, project_id)
        )

    def get_action_execution(
        self, action_execution_id: str, *, project_id: str | None = None
    ) -> ActionExecutionRecord:
        """An action execution by id (of the project, when given); raises NotFoundError."""
        return self._get(
            models.ActionExecution,
            ActionExecutionRecord,
            action_execution_id,
            "ActionExecution",
            project_id=project_id,
        )

    def list_action_executions(
        self, query: ListQuery, *, project_id: str | None = None
    ) -> Page[ActionExecutionRecord]:
        """A page of action executions (of the project, when given)."""
        table = models.ActionExecution
        return self._list(table, ActionExecutionRecord, query, where=_owned(table, project_id))

    def delete_action_execution(self, action_execution_id: str) -> None:
        """Deletes an action execution (an unsaved direct run, once answered)."""
        with self.db.write() as session:
            row = session.get(models.ActionExecution, action_execution_id)
            if row is not None:
                session.delete(row)

    # -- internals ----------------------------------------------------------

    @staticmethod
    def _find_workflow(
        session: Session, name: str, namespace: str, project_id: str | None
    ) -> models.WorkflowDefinition | None:
        return find_by_name(session, models.WorkflowDefinition, name, namespace, project_id)

    def _resolve_workflow(
        self, session: Session, identifier: str, namespace: str, project_id: str | None
    ) -> models.WorkflowDefinition:
        row = None
        if is_uuid(identifier):
            row = session.get(models.WorkflowDefinition, identifier)
            if row is not None and not members.is_visible(session, row, "workflow", project_id):
                row = None
        if row is None:
            row = self._find_workflow(session, identifier, namespace, project_id)
        if row is None:
            # By name, another project's workflow is found only when it is public.
            row = find_by_name(
                session, models.WorkflowDefinition, identifier, namespace, None, public=True
            )
        if row is None:
            raise NotFoundError(
                f"Workflow not found [workflow_identifier={identifier}, namespace={namespace}]"
            )
        return row

    def _get(
        self, model: type, record: type[R], key: str, label: str, *, project_id: str | None = None
    ) -> R:
        with self.db.read() as session:
            row = _owned_row(session, model, key, project_id)
            if row is None:
                raise NotFoundError(f"{label} not found [id={key}]")
            return _record(record, row)

    def _list(
        self, model: Any, record: type[R], query: ListQuery, *, where: tuple[Any, ...] = ()
    ) -> Page[R]:
        columns = model.__table__.c
        for item in (*query.filters, *query.order):
            if item.field not in columns:
                raise InputError(f"Unknown field for filtering or sorting: {item.field}")
        order = [*query.order]
        if not any(o.field == "id" for o in order):
            order.append(Order("id"))
        limit = max(1, min(query.limit, MAX_LIMIT))
        statement = select(model).where(*where, *(_condition(columns, f) for f in query.filters))
        with self.db.read() as session:
            if query.marker:
                marker_row = session.get(model, query.marker)
                if marker_row is None:
                    raise NotFoundError(f"{model.__name__} not found [id={query.marker}]")
                statement = statement.where(_after(columns, order, marker_row))
            for o in order:
                column = _comparable(columns[o.field])[0]
                statement = statement.order_by(column.desc() if o.descending else column.asc())
            rows = session.scalars(statement.limit(limit)).all()
            items = tuple(_record(record, row) for row in rows)
        next_marker = rows[-1].id if len(rows) == limit else None
        return Page(items=items, next_marker=next_marker)


def find_by_name(
    session: Session,
    model: Any,
    name: str,
    namespace: str,
    project_id: str | None,
    *,
    public: bool = False,
) -> Any:
    """A named definition of the project (any project's with None), or a public one.

    With `public`, only public rows count; the oldest wins when several projects
    publish the same name.
    """
    statement = select(model).where(model.name == name, model.namespace == namespace)
    if public:
        statement = statement.where(model.scope == "public").order_by(model.created_at, model.id)
    elif project_id is not None:
        statement = statement.where(model.project_id == project_id)
    return session.scalars(statement).first()


def _owned(model: Any, project_id: str | None) -> tuple[Any, ...]:
    """The WHERE clause of rows of the project (none with None: every project)."""
    return () if project_id is None else (model.project_id == project_id,)


def _owned_row(session: Session, model: Any, key: str, project_id: str | None) -> Any:
    """A row by id if it belongs to the project (any project with None), else None."""
    row = session.get(model, key)
    if row is None or (project_id is not None and row.project_id != project_id):
        return None
    return row


def _duplicate(name: str, namespace: str) -> AlreadyExistsError:
    return AlreadyExistsError(
        "Duplicate entry for WorkflowDefinition ['name', 'namespace', 'project_id']: "
        f"{name}, {namespace}, None"
    )


def _comparable(column: Any, value: Any = None) -> tuple[Any, Any]:
    """A JSON column compares as its text, with values as JSON text, as SQLite does anyway.

    PostgreSQL has no `=` or ordering for `json`: comparing it directly fails.
    """
    if not isinstance(column.type, JSON):
        return column, value
    if isinstance(value, tuple):
        return cast(column, Text), tuple(json.dumps(v) for v in value)
    return cast(column, Text), (None if value is None else json.dumps(value))


def _condition(columns: Any, item: Filter) -> Any:
    column = columns[item.field]
    value = _coerce(column, item.value)
    if item.op == "has":
        return _comparable(column)[0].contains(str(value), autoescape=True)
    if value is not None:
        column, value = _comparable(column, value)
    if item.op == "eq":
        return column.is_(None) if value is None else column == value
    if item.op == "neq":
        return column.is_not(None) if value is None else column != value
    if item.op == "in":
        return column.in_(list(value))
    if item.op == "nin":
        return column.not_in(list(value))
    if item.op == "has":
        return column.contains(str(value), autoescape=True)
    comparisons = {
        "lt": column < value,
        "lte": column <= value,
        "gt": column > value,
        "gte": column >= value,
    }
    if item.op in comparisons:
        return comparisons[item.op]
    return false()


def _coerce(column: Any, value: Any) -> Any:
    """Turns filter text into the column's type (datetimes, booleans, integers)."""
    if isinstance(value, tuple):
        return tuple(_coerce(column, v) for v in value)
    if not isinstance(value, str):
        return value
    if isinstance(column.type, DateTime):
        try:
            return datetime.fromisoformat(value)
        except ValueError as error:
            raise InputError(f"Invalid datetime for {column.name}: {value!r}") from error
    if isinstance(column.type, Boolean):
        return value.lower() in ("true", "1", "yes")
    if isinstance(column.type, Integer):  # PostgreSQL compares no integer with text
        try:
            return int(value)
        except ValueError as error:
            raise InputError(f"Invalid integer for {column.name}: {value!r}") from error
    return value


def _after(columns: Any, order: list[Order], marker: Any) -> Any:
    """Rows strictly after `marker` in the given ordering (keyset paging)."""
    clauses = []
    for index, current in enumerate(order):
        equal = [
            operator.eq(*_comparable(columns[o.field], getattr(marker, o.field)))
            for o in order[:index]
        ]
        column, value = _comparable(columns[current.field], getattr(marker, current.field))
        beyond = column < value if current.descending else column > value
        clauses.append(and_(*equal, beyond))
    # The same condition, led by a plain range on the first key: an index on
    # the ordering columns then starts each page where the last one ended.
    column, value = _comparable(columns[order[0].field], getattr(marker, order[0].field))
    start = column <= value if order[0].descending else column >= value
    return and_(start, or_(*clauses))


__all__ = [
    "ActionExecutionRecord",
    "ExecutionRecord",
    "ListQuery",
    "NewWorkflow",
    "Page",
    "Repository",
    "TaskRecord",
    "WorkflowRecord",
    "find_by_name",
    "is_uuid",
]

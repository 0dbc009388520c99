"""Maps the engine's state values to rows and back, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, Update, bindparam, func, select
from sqlalchemy.orm import Session

from levante.engine import sealing
from levante.engine.cache import StateCache
from levante.engine.state import (
    ActionRun,
    ExecutionState,
    TaskRun,
    changed_actions,
    changed_tasks,
)
from levante.errors import DefinitionError, NotFoundError
from levante.language import parse, parse_actions
from levante.language.spec import ActionSpec, Document, WorkflowSpec
from levante.persistence import models
from levante.persistence.locks import lock_root  # noqa: F401 - re-exported for the runtime
from levante.states import State


@lru_cache(maxsize=512)
def _document(definition: str) -> Document:
    return parse(definition)


@lru_cache(maxsize=512)
def _actions_document(definition: str) -> Document:
    # Stored actions come from action documents, or from workbooks (qualified names).
    try:
        return parse_actions(definition)
    except DefinitionError:
        return parse(definition)


def document_actions(definition: str) -> tuple[ActionSpec, ...]:
    """The ad-hoc actions a workflow's own definition text defines (a workbook's)."""
    return _document(definition).actions


def stored_actions(text: str) -> tuple[ActionSpec, ...]:
    """The ad-hoc actions of a stored action definition text."""
    return _actions_document(text).actions


def stored_adhoc_specs(stored: dict[str, str]) -> dict[str, ActionSpec]:
    """The specs of stored ad-hoc actions, from their definition texts by name."""
    found: dict[str, ActionSpec] = {}
    for name, text in stored.items():
        for spec in _actions_document(text).actions:
            if spec.name == name:
                found[name] = spec
    return found


def adhoc_actions(definition: str, stored: dict[str, str]) -> dict[str, ActionSpec]:
    """The ad-hoc actions an execution may use: its document's and the stored ones it froze."""
    found = stored_adhoc_specs(stored)
    for spec in _document(definition).actions:
        found[spec.name] = spec
    return found


def workflow_spec(definition: str, name: str) -> WorkflowSpec:
    """The spec of workflow `name` in a definition text (parsed once per text)."""
    for spec in _document(definition).workflows:
        if spec.name == name or spec.name.split(".")[-1] == name.split(".")[-1]:
            return spec
    raise NotFoundError(f"Workflow {name!r} is not in its stored definition")


_VERSION = select(models.WorkflowExecution.version).where(
    models.WorkflowExecution.id == bindparam("id")
)


def load(
    session: Session, execution_id: str, *, cache: StateCache | None = None
) -> ExecutionState | None:
    """The execution with its tasks and their actions, or None if it does not exist.

    With a cache, a state saved at the row's current version is reused.
    """
    if cache is not None:
        session.flush()  # rows this transaction added (a new child) must be visible
        version = session.connection().scalar(_VERSION, {"id": execution_id})
        cached = cache.get(execution_id, version or 0)
        if cached is not None:
            return cached
    # Rows are written with plain UPDATEs (see `save`): objects this session
    # already holds are refreshed from what the transaction wrote.
    row = session.get(models.WorkflowExecution, execution_id, populate_existing=True)
    if row is None:
        return None
    spec = workflow_spec(row.definition, row.workflow_name)
    # Hidden values are stored sealed; the machine sees them plain (levante.engine.sealing).
    reveal = sealing.opener(session, row, spec) or _as_is
    task_rows = session.scalars(
        select(models.TaskExecution)
        .where(models.TaskExecution.workflow_execution_id == execution_id)
        .order_by(models.TaskExecution.created_at)
        .execution_options(populate_existing=True)
    ).all()
    action_rows = session.scalars(
        select(models.ActionExecution)
        .where(models.ActionExecution.workflow_execution_id == execution_id)
        .order_by(models.ActionExecution.created_at)
        .execution_options(populate_existing=True)
    ).all()
    actions: dict[str, list[ActionRun]] = {}
    for a in action_rows:
        actions.setdefault(a.task_execution_id or "", []).append(
            ActionRun(
                id=a.id,
                name=a.name,
                state=State(a.state),
                input=reveal(a.input),
                output=reveal(a.output),
                state_info=a.state_info,
                created_at=a.created_at,
                updated_at=a.updated_at,
                index=a.item_index,
                target=(a.params or {}).get("target"),
                safe_rerun=bool((a.params or {}).get("safe_rerun")),
                superseded=bool((a.params or {}).get("superseded")),
            )
        )
    for t in task_rows:
        for child in t.subworkflows or ():
            if reveal is not _as_is:
                child = sealing.open_child_record(child)
            actions.setdefault(t.id, []).append(_child_run(child))
    built: dict[str, TaskRun] = {}
    for t in task_rows:
        built[t.id] = TaskRun(
            id=t.id,
            name=t.name,
            state=State(t.state),
            in_context=_expand_context(reveal(t.in_context), reveal(row.context), built),
            created_at=t.created_at,
            type=t.type,
            state_info=t.state_info,
            published=reveal(t.published),
            result=reveal(t.result),
            actions=tuple(actions.get(t.id, ())),
            triggered_by=tuple(t.runtime_context.get("triggered_by", ())),
            processed=t.processed,
            error_handled=t.error_handled,
            started_at=t.started_at,
            finished_at=t.finished_at,
            updated_at=t.updated_at,
            items=tuple(map(reveal, t.items)) if t.items is not None else None,
            capacity=(t.runtime_context.get("with_items") or {}).get("capacity"),
            policy={k: v for k, v in t.runtime_context.items() if k not in _DERIVED_KEYS},
        )
    tasks = tuple(built.values())
    return ExecutionState(
        id=row.id,
        root_id=row.root_execution_id or row.id,
        workflow_id=row.workflow_id,
        workflow_name=row.workflow_name,
        workflow_namespace=row.workflow_namespace,
        spec=spec,
        adhoc=adhoc_actions(row.definition, row.adhoc_actions or {}),
        state=State(row.state),
        input=reveal(row.input),
        params=row.params,
        created_at=row.created_at,
        state_info=row.state_info,
        context=reveal(row.context),
        output=reveal(row.output),
        tasks=tasks,
        updated_at=row.updated_at,
        project_id=row.project_id,
        globals=reveal(row.published_global or {}),
        custom_context=row.custom_context or {},
        parent_task_id=row.task_execution_id,
        parent_execution_id=_parent_execution(session, row.task_execution_id),
    )


def _as_is(value: Any) -> Any:
    return value


def _child_run(record: dict[str, Any]) -> ActionRun:
    return ActionRun(
        id=record["id"],
        name=record["name"],
        state=State(record["state"]),
        input=record.get("input") or {},
        created_at=datetime.fromisoformat(record["created_at"]),
        output=record.get("output"),
        state_info=record.get("state_info"),
        index=record.get("index", 0),
        kind="workflow",
        started=record.get("started", True),
    )


def _child_record(run: ActionRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "name": run.name,
        "state": str(run.state),
        "input": run.input,
        "created_at": run.created_at.isoformat(),
        "output": run.output,
        "state_info": run.state_info,
        "index": run.index,
        **({} if run.started else {"started": False}),
    }


def _parent_execution(session: Session, task_id: str | None) -> str | None:
    if not task_id:
        return None
    return session.scalar(
        select(models.TaskExecution.workflow_execution_id).where(models.TaskExecution.id == task_id)
    )


def save(
    session: Session,
    before: ExecutionState,
    after: ExecutionState,
    changed: list[tuple[TaskRun | None, TaskRun]] | None = None,
) -> int:
    """Writes what changed between `before` and `after`; returns the row's new version.

    `changed` is `changed_tasks(before, after)` when the caller has it.

    Plain UPDATE and INSERT statements, batched per table: an event touches a
    handful of rows, and loading them as ORM objects first would cost more
    than the writes themselves.
    """
    changes: dict[str, Any] = {}
    for column, attribute in _EXECUTION_COLUMNS:
        value = getattr(after, attribute)
        if value is not getattr(before, attribute) and value != getattr(before, attribute):
            changes[column] = str(value) if column == "state" else value
    seal = sealing.sealer(before, after)  # None unless something hidden is written
    if seal is not None:
        changes = seal.execution(changes)
    session.flush()
    version = session.connection().scalar(
        _update_execution(tuple(changes)), {**changes, "_id": after.id}
    )
    if version is None:
        raise NotFoundError(f"WorkflowExecution not found [id={after.id}]")
    writes = _Writes()
    by_id: dict[str, TaskRun] | None = None
    for previous, task in changed_tasks(before, after) if changed is None else changed:
        if by_id is None:
            by_id = {t.id: t for t in after.tasks}
        if previous is None:
            writes.new_task(after, task, by_id)
        else:
            writes.changed_task(after, previous, task, by_id)
            if task.actions is previous.actions:
                continue
        old_actions = previous.actions if previous is not None else ()
        for old, action in changed_actions(old_actions, task.actions):
            # Sub-workflow runs are recorded on the task (subworkflows), not as actions.
            if action.kind == "workflow":
                continue
            if old is None:
                writes.action(after, task, action, exists=False)
            elif old != action:
                writes.action(after, task, action, exists=True)
    if seal is not None:
        writes.seal(seal)
        seal.commit(session, after.root_id)
    writes.flush(session)
    return version


#: Execution columns `save` writes when their value changed: (column, state attribute).
_EXECUTION_COLUMNS = (
    ("state", "state"),
    ("state_info", "state_info"),
    ("output", "output"),
    ("context", "context"),
    ("updated_at", "updated_at"),
    ("params", "params"),
    ("published_global", "globals"),
)


class _Writes:
    """Row writes collected by `save`, executed as one statement per table and kind."""

    def __init__(self) -> None:
        self.new_tasks: list[dict[str, Any]] = []
        self.new_actions: list[dict[str, Any]] = []
        self.updates: dict[tuple[type, tuple[str, ...]], list[dict[str, Any]]] = {}

    def _update(self, model: type, values: dict[str, Any]) -> None:
        self.updates.setdefault((model, tuple(values)), []).append(values)

    def new_task(self, execution: ExecutionState, task: TaskRun, by_id: dict[str, TaskRun]) -> None:
        self.new_tasks.append(
            dict(
                id=task.id,
                name=task.name,
                type=task.type,
                state=str(task.state),
                state_info=task.state_info,
                in_context=_compact_context(execution, task, by_id),
                published=task.published,
                result=task.result,
                runtime_context=_runtime_context(task),
                items=list(task.items) if task.items is not None else None,
                subworkflows=_subworkflows(task),
                processed=task.processed,
                error_handled=task.error_handled,
                started_at=task.started_at,
                finished_at=task.finished_at,
                updated_at=task.updated_at,
                workflow_execution_id=execution.id,
                root_execution_id=execution.root_id,
                workflow_id=execution.workflow_id,
                workflow_name=execution.workflow_name,
                workflow_namespace=execution.workflow_namespace,
                project_id=execution.project_id,
                created_at=task.created_at,
                tags=[],
            )
        )

    def changed_task(
        self,
        execution: ExecutionState,
        previous: TaskRun,
        task: TaskRun,
        by_id: dict[str, TaskRun],
    ) -> None:
        """Writes the columns of an existing task whose fields changed (a with-items
        task's 10,000 items are not rewritten for every finished item)."""
        values: dict[str, Any] = {"id": task.id}
        for name in _TASK_FIELDS:
            value = getattr(task, name)
            old = getattr(previous, name)
            if value is not old and value != old:
                values[name] = str(value) if name == "state" else value
        if "items" in values:
            values["items"] = list(task.items) if task.items is not None else None
        if _changed(previous, task, ("in_context", "triggered_by")):
            values["in_context"] = _compact_context(execution, task, by_id)
        if _changed(previous, task, ("policy", "triggered_by", "items", "capacity")):
            values["runtime_context"] = _runtime_context(task)
        if task.type == "WORKFLOW" and task.actions is not previous.actions:
            values["subworkflows"] = _subworkflows(task)
        if len(values) > 1:
            self._update(models.TaskExecution, values)

    def action(
        self, execution: ExecutionState, task: TaskRun, action: ActionRun, *, exists: bool
    ) -> None:
        # What recovery needs to re-send or fail the action if its work is lost.
        params: dict[str, Any] = {"target": action.target, "safe_rerun": action.safe_rerun}
        if exists and action.superseded:
            params["superseded"] = True
            self._update(
                models.ActionExecution,
                {"id": action.id, "params": params, "updated_at": action.updated_at},
            )
            return
        if exists:
            # Executors never touch the database: a result is the proof one took the action.
            self._update(
                models.ActionExecution,
                {
                    "id": action.id,
                    "state": str(action.state),
                    "state_info": action.state_info,
                    "output": action.output,
                    "accepted": True,
                    "updated_at": action.updated_at,
                },
            )
            return
        self.new_actions.append(
            {
                "id": action.id,
                "name": action.name,
                "task_execution_id": task.id,
                "task_name": task.name,
                "workflow_execution_id": execution.id,
                "root_execution_id": execution.root_id,
                "workflow_name": execution.workflow_name,
                "workflow_namespace": execution.workflow_namespace,
                "state": str(action.state),
                "state_info": action.state_info,
                "accepted": False,
                "input": action.input,
                "item_index": action.index,
                "output": action.output,
                "params": params,
                "description": "",
                "tags": None,
                "project_id": execution.project_id,
                "created_at": action.created_at,
                "updated_at": action.updated_at,
            }
        )

    def seal(self, seal: sealing.Sealer) -> None:
        """Seals hidden values in every row about to be written."""
        seal.rows(self.new_tasks, models.TaskExecution)
        seal.rows(self.new_actions, models.ActionExecution)
        for (model, _), rows in self.updates.items():
            seal.rows(rows, model)

    def flush(self, session: Session) -> None:
        connection = session.connection()
        if self.new_tasks:
            connection.execute(models.TaskExecution.__table__.insert(), self.new_tasks)
        if self.new_actions:
            connection.execute(models.ActionExecution.__table__.insert(), self.new_actions)
        for (model, keys), rows in self.updates.items():
            connection.execute(
                _update_by_id(model.__table__, keys),
                [{**row, "_id": row["id"]} for row in rows],
            )


@lru_cache(maxsize=128)
def _update_execution(keys: tuple[str, ...]) -> Update:
    """UPDATE the execution's <keys>, bumping its version; returns the new version."""
    table = models.WorkflowExecution.__table__
    return (
        table.update()
        .where(table.c.id == bindparam("_id"))
        .values(
            version=func.coalesce(table.c.version, 0) + 1,
            **{key: bindparam(key) for key in keys},
        )
        .returning(table.c.version)
    )


@lru_cache(maxsize=64)
def _update_by_id(table: Table, keys: tuple[str, ...]) -> Update:
    """UPDATE table SET <keys> WHERE id = :_id, for executemany."""
    return (
        table.update()
        .where(table.c.id == bindparam("_id"))
        .values({key: bindparam(key) for key in keys if key != "id"})
    )


#: Task fields stored as the column of the same name.
_TASK_FIELDS = (
    "state",
    "state_info",
    "published",
    "result",
    "items",
    "processed",
    "error_handled",
    "started_at",
    "finished_at",
    "updated_at",
)


def _changed(previous: TaskRun, task: TaskRun, names: tuple[str, ...]) -> bool:
    for name in names:
        value, old = getattr(task, name), getattr(previous, name)
        if value is not old and value != old:
            return True
    return False


def _subworkflows(task: TaskRun) -> list[dict[str, Any]] | None:
    return [_child_record(a) for a in task.actions if a.kind == "workflow"] or None


# runtime_context keys rebuilt from other task fields on save; the rest is policy state.
_DERIVED_KEYS = ("triggered_by", "with_items")


# A task's inbound context is, by construction, what its triggering tasks
# handed on (or the execution's initial context for a first task). Storing
# that as a reference to them keeps a long chain of tasks that publish large
# values linear in size instead of quadratic.
_PARENTS = "__levante_parents__"


def _compact_context(
    execution: ExecutionState, task: TaskRun, by_id: dict[str, TaskRun]
) -> dict[str, Any]:
    parents = [by_id[t["task_id"]] for t in task.triggered_by if t["task_id"] in by_id]
    if len(parents) != len(task.triggered_by):
        return task.in_context
    expected: dict[str, Any] = {} if parents else dict(execution.context)
    for parent in parents:
        expected.update(parent.out_context())
    if task.in_context == expected:
        return {_PARENTS: [p.id for p in parents]}
    return task.in_context


def _expand_context(
    stored: dict[str, Any], initial: dict[str, Any], built: dict[str, TaskRun]
) -> dict[str, Any]:
    if not (isinstance(stored, dict) and set(stored) == {_PARENTS}):
        return stored
    parents = stored[_PARENTS]
    if not parents:
        return dict(initial)
    context: dict[str, Any] = {}
    for parent_id in parents:
        parent = built.get(parent_id)
        if parent is not None:
            context.update(parent.out_context())
    return context


def _runtime_context(task: TaskRun) -> dict[str, Any]:
    """What Mistral shows as a task's runtime_context."""
    context: dict[str, Any] = dict(task.policy)
    if task.triggered_by:
        context["triggered_by"] = list(task.triggered_by)
    if task.items is not None:
        context["with_items"] = {"capacity": task.capacity, "count": len(task.items)}
    return context

"""Finding workflow definitions and starting executions of them, inside a transaction.

Names resolve in the execution's namespace first, then the default one; a
sub-workflow named without a workbook prefix is looked up in its parent's
workbook first (`wb.child`), as Mistral does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from levante.engine import sealing, store
from levante.engine.state import StartChild
from levante.errors import InputError, LevanteError, NotFoundError, WorkflowInputError
from levante.language.spec import WorkflowSpec, WorkflowType
from levante.persistence import members, models
from levante.persistence.repository import is_uuid
from levante.states import State


def resolve(
    session: Session,
    identifier: str,
    namespace: str,
    *,
    workbook: str | None = None,
    project_id: str | None = None,
) -> models.WorkflowDefinition:
    """A workflow by id, or by name (workbook-local first) in `namespace`, then the default.

    With `project_id`, only a workflow the project may use: by id one it can
    see (its own, public, or shared with it and accepted); by name its own,
    else a public one.
    """
    table = models.WorkflowDefinition
    if not identifier:
        raise InputError(
            "Workflow ID or workflow name must be provided. Workflow ID is recommended."
        )
    if is_uuid(identifier):
        row = session.get(table, identifier)
        if row is not None and members.is_visible(session, row, "workflow", project_id):
            return row
    names = [identifier]
    if workbook and "." not in identifier:
        names.insert(0, f"{workbook}.{identifier}")
    owners = [table.project_id == project_id, table.scope == "public"] if project_id else [None]
    for owner in owners:
        for name in names:
            for space in dict.fromkeys((namespace, "")):
                statement = select(table).where(table.name == name, table.namespace == space)
                if owner is not None:
                    statement = statement.where(owner).order_by(table.created_at, table.id)
                row = session.scalars(statement).first()
                if row is not None:
                    return row
    raise NotFoundError(
        f"Workflow not found [workflow_identifier={identifier}, namespace={namespace}]"
    )


def freeze_adhoc(
    session: Session, definition: models.WorkflowDefinition, spec: WorkflowSpec
) -> dict[str, str]:
    """The stored ad-hoc actions the workflow's tasks use (bases included): name -> text.

    Looked up in the workflow's namespace, then the default one. Actions the
    workflow's own document defines (a workbook's) are not stored here: they
    come with the definition. Names found nowhere are left to the executors
    (standard and plugin actions).
    """
    own = {a.name for a in store.document_actions(definition.definition)}
    wanted = [t.action for t in spec.tasks.values() if t.action and t.action not in own]
    # The actions of the workflow's owner: a shared workflow runs as its author wrote it.
    return stored_adhoc(
        session, wanted, namespace=definition.namespace, project_id=definition.project_id
    )


def stored_adhoc(
    session: Session, names: list[str], *, namespace: str, project_id: str | None = None
) -> dict[str, str]:
    """The stored ad-hoc actions `names` and their bases: name -> definition text.

    Looked up in `namespace`, then the default one; names found nowhere are
    standard or plugin actions, left to the executors. With `project_id`,
    only the project's own actions, else public ones.
    """
    table = models.ActionDefinition
    owners = [table.project_id == project_id, table.scope == "public"] if project_id else [None]
    wanted = list(names)
    frozen: dict[str, str] = {}
    while wanted:
        name = wanted.pop()
        if name in frozen or name.startswith("std."):
            continue
        for owner, space in ((o, s) for o in owners for s in dict.fromkeys((namespace, ""))):
            statement = select(table).where(table.name == name, table.namespace == space)
            if owner is not None:
                statement = statement.where(owner).order_by(table.created_at, table.id)
            row = session.scalars(statement).first()
            if row is not None:
                frozen[name] = row.definition
                wanted.extend(a.base for a in store.stored_actions(row.definition))
                break
    return frozen


def _workflow_owner(session: Session, execution_id: str) -> str | None:
    """The project that owns the workflow an execution runs (None if it is gone)."""
    workflow_id = session.scalar(
        select(models.WorkflowExecution.workflow_id).where(
            models.WorkflowExecution.id == execution_id
        )
    )
    if not workflow_id:
        return None
    return session.scalar(
        select(models.WorkflowDefinition.project_id).where(
            models.WorkflowDefinition.id == workflow_id
        )
    )


def check_input(spec: WorkflowSpec, given: dict[str, Any]) -> dict[str, Any]:
    """Fills defaults; raises WorkflowInputError naming missing and unexpected inputs."""
    declared = {p.name: p for p in spec.input}
    missing = [name for name, p in declared.items() if not p.has_default and name not in given]
    unexpected = [name for name in given if name not in declared]
    if missing or unexpected:
        details = f"missing={missing}" if missing else ""
        if unexpected:
            details += (", " if details else "") + f"unexpected={unexpected}"
        kind = "ReverseWorkflowSpec" if spec.type is WorkflowType.REVERSE else "DirectWorkflowSpec"
        raise WorkflowInputError(f"Invalid input [name={spec.name}, class={kind}, {details}]")
    return {**{n: p.default for n, p in declared.items() if p.has_default}, **given}


def check_params(spec: WorkflowSpec, params: dict[str, Any]) -> None:
    """A reverse workflow needs `task_name` naming one of its tasks."""
    if spec.type is not WorkflowType.REVERSE:
        return
    target = params.get("task_name")
    if target not in spec.tasks:
        raise InputError(
            f"Invalid task name [workflow={spec.name}, task_name={target}]: a reverse workflow "
            f"runs the task named by the task_name param, one of: {', '.join(spec.tasks)}"
        )


def create_child(
    session: Session,
    command: StartChild,
    *,
    parent_workflow: str,
    project_id: str,
    now: datetime,
) -> str | None:
    """Creates a sub-workflow execution (IDLE); returns None, or why it could not start.

    A child that cannot start is still recorded, in ERROR, so its parent task
    and the user see why.
    """
    workbook = parent_workflow.rsplit(".", 1)[0] if "." in parent_workflow else None
    params = {
        "root_execution_id": command.root_execution_id,
        "task_execution_id": command.task_id,
        "index": command.index,
        "namespace": command.workflow_namespace,
        "env": command.env,
    }
    row = models.WorkflowExecution(
        id=command.child_id,
        workflow_id="",
        workflow_name=command.workflow_name,
        workflow_namespace=command.workflow_namespace,
        definition="",
        description="sub-workflow execution",
        tags=[],
        params=params,
        input=command.input,
        output={},
        context={},
        published_global={},
        state=str(State.IDLE),
        state_info=None,
        task_execution_id=command.task_id,
        root_execution_id=command.root_execution_id,
        scope="private",
        project_id=project_id,
        created_at=now,
        updated_at=now,
        custom_context=command.custom_context,
    )
    problem = None
    try:
        # Named as the parent workflow's author sees names (a shared workflow's
        # sub-workflows are its owner's), else as the execution's project.
        definition = resolve(
            session,
            command.workflow_name,
            command.workflow_namespace,
            workbook=workbook,
            project_id=_workflow_owner(session, command.parent_execution_id) or project_id,
        )
        spec = store.workflow_spec(definition.definition, definition.name)
        row.input = sealing.seal_child_input(
            session, spec, check_input(spec, command.input), command.root_execution_id
        )
        row.workflow_id, row.workflow_name = definition.id, definition.name
        row.workflow_namespace, row.definition = definition.namespace, definition.definition
        row.adhoc_actions = freeze_adhoc(session, definition, spec)
    except LevanteError as error:
        problem = error.message
        row.state, row.state_info, row.output = str(State.ERROR), problem, {"result": problem}
    session.add(row)
    session.flush()
    return problem

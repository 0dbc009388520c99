"""Action executions outside the state machine: direct runs and outside completion.

A direct run (`POST /v2/action_executions`) belongs to no workflow: its
action execution is its own root, and its result updates the row directly.
An action that belongs to a task is completed through the machine instead
(`ActionCompleted`), so the task and the workflow move on.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from levante.engine import adhoc, store, workflows
from levante.engine.state import ActionCompleted
from levante.errors import ExpressionError, FailedPreconditionError, InputError, NotFoundError
from levante.expressions import ExpressionContext, evaluate
from levante.persistence import models
from levante.states import State

COMPLETION_STATES = ("SUCCESS", "ERROR", "CANCELLED")


def new_direct_action(
    *,
    action_id: str,
    name: str,
    action_input: dict[str, Any],
    params: dict[str, Any],
    description: str,
    namespace: str,
    project_id: str,
    now: datetime,
) -> models.ActionExecution:
    """The row of a direct run, RUNNING until its executor reports."""
    return models.ActionExecution(
        id=action_id,
        name=name,
        task_execution_id=None,
        task_name=None,
        workflow_execution_id=None,
        root_execution_id=action_id,
        workflow_name=None,
        workflow_namespace=namespace,
        state=str(State.RUNNING),
        state_info=None,
        accepted=False,
        item_index=0,
        input=action_input,
        output=None,
        params=params,
        description=description,
        tags=None,
        project_id=project_id,
        created_at=now,
        updated_at=now,
    )


def evaluate_plain(value: Any, data: Any) -> Any:
    """Evaluates expressions over `data` alone: ad-hoc actions run outside a workflow."""
    return evaluate(value, ExpressionContext(data=data))


def resolve_direct(
    session: Session, name: str, action_input: dict[str, Any], namespace: str, project_id: str
) -> tuple[str, dict[str, Any]]:
    """The action an executor runs for a direct run of `name`, and its input.

    A stored ad-hoc action resolves to its base with `base-input` evaluated;
    anything else is a standard or plugin action, run as it is.
    """
    specs = store.stored_adhoc_specs(
        workflows.stored_adhoc(session, [name], namespace=namespace, project_id=project_id or None)
    )
    if name not in specs:
        return name, action_input
    try:
        return adhoc.resolve(name, action_input, specs, evaluate_plain)
    except (adhoc.AdHocError, ExpressionError) as error:
        raise InputError(f"Failed to prepare ad-hoc action '{name}': {error}") from error


def complete_direct(session: Session, event: ActionCompleted, now: datetime) -> None:
    """Applies a result to a direct run; a repeated result changes nothing.

    The result of an ad-hoc action goes through its `output` first.
    """
    row = session.get(models.ActionExecution, event.action_id)
    if row is None or row.state != State.RUNNING:
        return
    if not event.failed and (row.params or {}).get("base_action"):
        specs = store.stored_adhoc_specs(
            workflows.stored_adhoc(
                session,
                [row.name],
                namespace=row.workflow_namespace or "",
                project_id=row.project_id or None,
            )
        )
        if row.name in specs:
            try:
                event = dataclasses.replace(
                    event, result=adhoc.transform(row.name, event.result, specs, evaluate_plain)
                )
            except (adhoc.AdHocError, ExpressionError) as error:
                message = f"Failed to transform the output of ad-hoc action '{row.name}': {error}"
                event = dataclasses.replace(event, failed=True, result=None, error=message)
    if event.failed:
        row.state = str(State.ERROR)
        row.state_info = event.error
        row.output = {"result": event.result if event.result is not None else event.error}
    else:
        row.state = str(State.SUCCESS)
        row.output = {"result": event.result}
    row.accepted = True
    row.updated_at = now


def mark_accepted(session: Session, action_id: str, now: datetime) -> None:
    """Records that an executor started an (async) action that is still RUNNING."""
    row = session.get(models.ActionExecution, action_id)
    if row is not None and row.state == State.RUNNING and not row.accepted:
        row.accepted = True
        row.updated_at = now


def completion_event(action_id: str, task_id: str, state: str, output_json: str) -> ActionCompleted:
    """The event that completes an action from outside with `state` and `output`."""
    if state not in COMPLETION_STATES:
        raise InputError(
            f"Cannot complete an action execution with state {state!r}; "
            f"use one of {', '.join(COMPLETION_STATES)}"
        )
    try:
        output = json.loads(output_json) if output_json else None
    except json.JSONDecodeError as error:
        raise InputError(f"Action execution output is not valid JSON: {error}") from error
    if state == "SUCCESS":
        return ActionCompleted(action_id=action_id, task_id=task_id, result=output)
    message = (
        output
        if isinstance(output, str)
        else (json.dumps(output) if output is not None else f"Action execution {state.lower()}")
    )
    return ActionCompleted(
        action_id=action_id, task_id=task_id, failed=True, result=output, error=message
    )


def running_action(session: Session, action_id: str) -> models.ActionExecution:
    """The action execution, which must exist and be RUNNING."""
    row = session.get(models.ActionExecution, action_id)
    if row is None:
        raise NotFoundError(f"ActionExecution not found [id={action_id}]")
    if row.state != State.RUNNING:
        raise FailedPreconditionError(
            f"Action execution {action_id} is in state {row.state}; only RUNNING action "
            "executions can be completed"
        )
    return row

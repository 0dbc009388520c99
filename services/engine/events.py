"""State-change events of an execution tree, derived from what one step changed.

Every change of a workflow execution's, task execution's or action
execution's state becomes a `levante.v2.ExecutionEvent`. The events leave
through the outbox with the transaction that made the change, so a
committed change is always announced (at least once; JetStream drops a
re-published duplicate by its id) and nothing is announced that did not
commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from levante.engine import sealing
from levante.engine.state import (
    ActionRun,
    ExecutionState,
    TaskRun,
    changed_actions,
    changed_tasks,
)
from levante.messaging.jetstream import Outgoing, execution_event_subject
from levante.states import COMPLETED
from levante.v2 import event_pb2

#: Longest summary_json kept in an event, in characters.
SUMMARY_LIMIT = 2048

_WORKFLOW = event_pb2.EVENT_ENTITY_WORKFLOW_EXECUTION
_TASK = event_pb2.EVENT_ENTITY_TASK_EXECUTION
_ACTION = event_pb2.EVENT_ENTITY_ACTION_EXECUTION
_SUBJECT_ENTITY = {_WORKFLOW: "workflow", _TASK: "task", _ACTION: "action"}


def state_events(
    before: ExecutionState,
    after: ExecutionState,
    now: datetime,
    new_id: Callable[[], str],
    changed: list[tuple[TaskRun | None, TaskRun]] | None = None,
) -> list[Outgoing]:
    """The events for every state change between `before` and `after`, in order:
    the execution's own change last when it finishes, first otherwise.

    `changed` is `changed_tasks(before, after)` when the caller has it.
    """
    stamp = Timestamp()
    stamp.FromDatetime(now)
    events: list[event_pb2.ExecutionEvent] = []
    for previous, task in changed_tasks(before, after) if changed is None else changed:
        task_event = None
        if previous is None or previous.state is not task.state:
            task_event = _task_event(after, previous, task)
            # A task starts before its actions and finishes after them.
            if task.state not in COMPLETED:
                events.append(task_event)
                task_event = None
        old_actions = previous.actions if previous is not None else ()
        if task.actions is not old_actions:
            events += _action_events(after, task, old_actions)
        if task_event is not None:
            events.append(task_event)
    if before.state is not after.state:
        workflow = _workflow_event(before, after)
        if after.state in COMPLETED:
            events.append(workflow)
        else:
            events.insert(0, workflow)
    outgoing = []
    for event in events:
        event.id = new_id()
        event.root_execution_id = after.root_id
        event.execution_id = after.id
        event.parent_execution_id = after.parent_execution_id or ""
        event.timestamp.CopyFrom(stamp)
        outgoing.append(
            Outgoing(
                msg_id=event.id,
                subject=execution_event_subject(
                    after.root_id, after.id, _SUBJECT_ENTITY[event.entity]
                ),
                payload=event.SerializeToString(),
            )
        )
    return outgoing


def _action_events(
    execution: ExecutionState, task: TaskRun, old_actions: tuple[ActionRun, ...]
) -> list[event_pb2.ExecutionEvent]:
    events = []
    for old, action in changed_actions(old_actions, task.actions):
        if action.kind == "workflow":
            continue  # the child execution announces itself
        if old is None or old.state is not action.state:
            events.append(_action_event(execution, task, old, action))
    return events


def summary(value: Any) -> str:
    """`value` as JSON, cut to SUMMARY_LIMIT characters."""
    if value is None or value == {}:
        return ""
    try:
        text = json.dumps(value, default=str, separators=(",", ":"))
    except (TypeError, ValueError):
        text = json.dumps(str(value))
    if len(text) > SUMMARY_LIMIT:
        return text[: SUMMARY_LIMIT - 3] + "..."
    return text


def _workflow_event(before: ExecutionState, after: ExecutionState) -> event_pb2.ExecutionEvent:
    return event_pb2.ExecutionEvent(
        entity=_WORKFLOW,
        entity_id=after.id,
        name=after.workflow_name,
        task_execution_id=after.parent_task_id or "",
        old_state=str(before.state),
        new_state=str(after.state),
        state_info=sealing.shown_text(after, after.state_info) or "",
        summary_json=summary(sealing.shown(after, after.output))
        if after.state in COMPLETED
        else "",
    )


def _task_event(
    execution: ExecutionState, previous: TaskRun | None, task: TaskRun
) -> event_pb2.ExecutionEvent:
    return event_pb2.ExecutionEvent(
        entity=_TASK,
        entity_id=task.id,
        name=task.name,
        task_execution_id=task.id,
        old_state=str(previous.state) if previous is not None else "",
        new_state=str(task.state),
        state_info=sealing.shown_text(execution, task.state_info) or "",
        summary_json=(
            summary(sealing.shown(execution, task.published)) if task.state in COMPLETED else ""
        ),
    )


def _action_event(
    execution: ExecutionState, task: TaskRun, previous: ActionRun | None, action: ActionRun
) -> event_pb2.ExecutionEvent:
    result = (action.output or {}).get("result") if action.output else None
    return event_pb2.ExecutionEvent(
        entity=_ACTION,
        entity_id=action.id,
        name=action.name,
        task_execution_id=task.id,
        old_state=str(previous.state) if previous is not None else "",
        new_state=str(action.state),
        state_info=sealing.shown_text(execution, action.state_info) or "",
        summary_json=summary(sealing.shown(execution, result)) if action.state in COMPLETED else "",
        item_index=action.index if task.items is not None else 0,
    )

"""Conversions between repository records, protos and plain JSON values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf import json_format, struct_pb2
from google.protobuf.timestamp_pb2 import Timestamp

from levante.errors import InputError
from levante.persistence.repository import (
    ActionExecutionRecord,
    ExecutionRecord,
    TaskRecord,
    WorkflowRecord,
)
from levante.v2 import action_execution_pb2, common_pb2, execution_pb2, task_pb2, workflow_pb2


def state_to_proto(state: str) -> common_pb2.State.ValueType:
    """`SUCCESS` -> STATE_SUCCESS."""
    return common_pb2.State.Value(f"STATE_{state}")


def state_from_proto(state: common_pb2.State.ValueType) -> str:
    """STATE_SUCCESS -> `SUCCESS`; unset -> empty string; InputError for an unknown number."""
    if state not in common_pb2.State.values():  # proto3 enums are open: any number parses
        raise InputError(f"Unknown state {state}")
    name = common_pb2.State.Name(state)
    return "" if state == common_pb2.STATE_UNSPECIFIED else name.removeprefix("STATE_")


def scope_to_proto(scope: str) -> common_pb2.Scope.ValueType:
    """`private` -> SCOPE_PRIVATE."""
    return common_pb2.Scope.Value(f"SCOPE_{scope.upper()}")


def scope_from_proto(scope: common_pb2.Scope.ValueType) -> str:
    """SCOPE_PUBLIC -> `public`; unset -> `private`; InputError for an unknown number."""
    if scope == common_pb2.SCOPE_UNSPECIFIED:
        return "private"
    if scope not in common_pb2.Scope.values():
        raise InputError(f"Unknown scope {scope}: must be SCOPE_PRIVATE or SCOPE_PUBLIC")
    return common_pb2.Scope.Name(scope).removeprefix("SCOPE_").lower()


def timestamp(value: datetime | None) -> Timestamp | None:
    """A proto Timestamp of a naive-UTC datetime (None stays unset)."""
    if value is None:
        return None
    stamp = Timestamp()
    stamp.FromDatetime(value.replace(tzinfo=UTC))
    return stamp


def from_timestamp(stamp: Timestamp, present: bool) -> datetime | None:
    """A naive-UTC datetime of a proto Timestamp, None when absent."""
    return stamp.ToDatetime() if present else None


def struct(value: dict[str, Any] | None) -> struct_pb2.Struct:
    """A Struct of a JSON object."""
    message = struct_pb2.Struct()
    if value:
        message.update(value)
    return message


def value(data: Any) -> struct_pb2.Value:
    """A Value of any JSON value."""
    message = struct_pb2.Value()
    json_format.ParseDict(data, message)
    return message


def plain(message: struct_pb2.Struct | struct_pb2.Value) -> Any:
    """A JSON value of a Struct or Value, with integral numbers as ints.

    Protobuf's JSON numbers are doubles; Levante's values come from JSON
    where `1` and `1.0` differ in Python, and users write integers far more
    often, so integral doubles become ints.
    """
    return _ints(json_format.MessageToDict(message))


def _ints(data: Any) -> Any:
    if isinstance(data, float) and data.is_integer() and abs(data) < 2**53:
        return int(data)
    if isinstance(data, dict):
        return {k: _ints(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_ints(v) for v in data]
    return data


def workflow_to_proto(record: WorkflowRecord) -> workflow_pb2.Workflow:
    """The public Workflow of a record."""
    return workflow_pb2.Workflow(
        name=f"workflows/{record.id}",
        id=record.id,
        workflow_name=record.name,
        namespace=record.namespace,
        definition=record.definition,
        input=record.input,
        interface=struct(record.interface),
        tags=record.tags,
        scope=scope_to_proto(record.scope),
        project_id=record.project_id,
        checksum=record.checksum,
        create_time=timestamp(record.created_at),
        update_time=timestamp(record.updated_at),
    )


def execution_to_proto(
    record: ExecutionRecord, *, with_output: bool = True
) -> execution_pb2.Execution:
    """The public Execution of a record."""
    return execution_pb2.Execution(
        name=f"executions/{record.id}",
        id=record.id,
        workflow_id=record.workflow_id,
        workflow_name=record.workflow_name,
        workflow_namespace=record.workflow_namespace,
        description=record.description,
        tags=record.tags,
        params=struct(record.params),
        input=struct(record.input),
        output=struct(record.output) if with_output else None,
        state=state_to_proto(record.state),
        state_info=record.state_info or "",
        task_execution_id=record.task_execution_id or "",
        root_execution_id=record.root_execution_id or "",
        project_id=record.project_id,
        published_global=struct(record.published_global),
        create_time=timestamp(record.created_at),
        update_time=timestamp(record.updated_at),
    )


def task_to_proto(record: TaskRecord) -> task_pb2.Task:
    """The public Task of a record."""
    return task_pb2.Task(
        name=f"tasks/{record.id}",
        id=record.id,
        task_name=record.name,
        type=task_pb2.TaskType.Value(f"TASK_TYPE_{record.type}"),
        workflow_name=record.workflow_name,
        workflow_namespace=record.workflow_namespace,
        workflow_id=record.workflow_id,
        workflow_execution_id=record.workflow_execution_id,
        tags=record.tags,
        state=state_to_proto(record.state),
        state_info=record.state_info or "",
        project_id=record.project_id,
        runtime_context=struct(record.runtime_context),
        result=value(record.result),
        published=struct(record.published),
        processed=record.processed,
        create_time=timestamp(record.created_at),
        update_time=timestamp(record.updated_at),
        start_time=timestamp(record.started_at),
        finish_time=timestamp(record.finished_at),
    )


def action_execution_to_proto(
    record: ActionExecutionRecord, *, with_output: bool = True
) -> action_execution_pb2.ActionExecution:
    """The public ActionExecution of a record."""
    return action_execution_pb2.ActionExecution(
        name=f"actionExecutions/{record.id}",
        id=record.id,
        action_name=record.name,
        workflow_name=record.workflow_name or "",
        workflow_namespace=record.workflow_namespace,
        task_execution_id=record.task_execution_id or "",
        task_name=record.task_name or "",
        state=state_to_proto(record.state),
        state_info=record.state_info or "",
        tags=record.tags or [],
        description=record.description,
        project_id=record.project_id,
        accepted=record.accepted,
        input=struct(record.input),
        output=struct(record.output) if with_output and record.output is not None else None,
        params=struct(record.params),
        create_time=timestamp(record.created_at),
        update_time=timestamp(record.updated_at),
    )

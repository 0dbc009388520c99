"""Conversions between the engine's wire messages (protobuf) and machine values."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import structlog
from google.protobuf.timestamp_pb2 import Timestamp

from levante import tracing
from levante.engine import sealing
from levante.engine.state import (
    ActionCompleted,
    Command,
    Event,
    RunAction,
    ScheduleTimer,
    TimerFired,
)
from levante.errors import InputError
from levante.internal.v1 import messages_pb2
from levante.messaging.jetstream import ENGINE_EVENTS_SUBJECT, Outgoing, work_subject
from levante.persistence import models
from levante.security import secrets

log = structlog.get_logger(__name__)


def machine_event(event: messages_pb2.EngineEvent) -> Event | None:
    kind = event.WhichOneof("event")
    if kind == "action_result":
        result = event.action_result
        outcome = result.WhichOneof("outcome")
        if outcome == "pending":
            return None  # an async action started; it stays RUNNING until completed
        if outcome == "failure":
            data = json.loads(result.failure.data_json) if result.failure.data_json else None
            data = secrets.open_value(data)  # sealed by the executor when it shows a secret
            return ActionCompleted(
                action_id=result.action_execution_id,
                task_id=result.task_execution_id,
                failed=True,
                result=data,
                error=result.failure.message,
            )
        value = json.loads(result.result_json) if result.result_json else None
        value = secrets.open_value(value)
        return ActionCompleted(
            action_id=result.action_execution_id, task_id=result.task_execution_id, result=value
        )
    if kind == "timer_fired":
        timer = event.timer_fired
        return TimerFired(kind=timer.kind, task_id=timer.task_execution_id, token=timer.token)
    log.error("unknown engine event kind ignored", kind=kind, event_id=event.event_id)
    return None


def timer_row(timer: ScheduleTimer, now: datetime) -> models.Timer:
    """The durable row of a timer: the scheduler publishes its event when due."""
    timer_id = str(uuid.uuid4())
    stamp = Timestamp()
    stamp.FromDatetime(timer.due_at)
    event = messages_pb2.EngineEvent(
        event_id=timer_id,
        event_time=stamp,
        execution_id=timer.execution_id,
        root_execution_id=timer.root_execution_id,
        timer_fired=messages_pb2.TimerFired(
            timer_id=timer_id,
            kind=timer.kind,
            task_execution_id=timer.task_id,
            token=timer.token,
        ),
    )
    return models.Timer(
        id=timer_id,
        due_at=timer.due_at,
        leased_until=None,
        root_execution_id=timer.root_execution_id,
        task_execution_id=timer.task_id,
        subject=ENGINE_EVENTS_SUBJECT,
        payload=event.SerializeToString(),
        created_at=now,
    )


def outgoing_for(command: Command, now: datetime) -> Outgoing:
    if isinstance(command, RunAction):
        traceparent = tracing.traceparent()  # "" while tracing is off
        stamp = Timestamp()
        stamp.FromDatetime(now)
        message = messages_pb2.RunAction(
            command_id=command.action_id,
            action_execution_id=command.action_id,
            task_execution_id=command.task_id,
            execution_id=command.execution_id,
            root_execution_id=command.root_execution_id,
            action_name=command.action_name,
            # What shows a secret travels sealed; the executor opens it.
            input_json=json.dumps(
                sealing.seal_command_input(command.input, command.root_execution_id)
            ).encode(),
            target=command.target or "",
            safe_rerun=command.safe_rerun,
            request_time=stamp,
            workflow_name=command.workflow_name,
            workflow_namespace=command.workflow_namespace,
            task_name=command.task_name,
            project_id=command.project_id,
            custom_context_json=(
                json.dumps(command.custom_context).encode() if command.custom_context else b""
            ),
            traceparent=traceparent,
        )
        return Outgoing(
            msg_id=command.action_id,
            subject=work_subject(command.target, command.action_id),
            payload=message.SerializeToString(),
            traceparent=traceparent,
        )
    raise TypeError(f"unknown command {command!r}")


def json_object(text: str, field: str) -> dict[str, Any]:
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"Invalid JSON in {field}: {error}") from error
    if not isinstance(value, dict):
        raise InputError(f"{field} must be a JSON object, got {type(value).__name__}")
    return value

"""levante.v2.CronTriggersService."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from google.protobuf import empty_pb2

from levante import notifications
from levante.api import convert, identity
from levante.api.servicers import list_query
from levante.messaging.outbox import utcnow
from levante.persistence.triggers import CronTriggerRecord, NewCronTrigger, TriggerRepository
from levante.security.limits import Limits
from levante.v2 import cron_trigger_pb2, cron_trigger_pb2_grpc


def cron_trigger_to_proto(record: CronTriggerRecord) -> cron_trigger_pb2.CronTrigger:
    """The public CronTrigger of a record."""
    message = cron_trigger_pb2.CronTrigger(
        name=f"cronTriggers/{record.name}",
        id=record.id,
        trigger_name=record.name,
        pattern=record.pattern,
        workflow_name=record.workflow_name,
        workflow_id=record.workflow_id,
        workflow_namespace=record.workflow_namespace,
        workflow_input=convert.struct(record.workflow_input),
        workflow_params=convert.struct(record.workflow_params),
        first_execution_time=convert.timestamp(record.first_execution_time),
        next_execution_time=convert.timestamp(record.next_execution_time),
        timezone=record.timezone,
        scope=convert.scope_to_proto(record.scope),
        project_id=record.project_id,
        create_time=convert.timestamp(record.created_at),
        update_time=convert.timestamp(record.updated_at),
    )
    if record.remaining_executions is not None:
        message.remaining_executions = record.remaining_executions
    return message


class CronTriggersServicer(cron_trigger_pb2_grpc.CronTriggersServiceServicer):
    """Creates, reads and deletes cron triggers (the scheduler fires them)."""

    def __init__(self, triggers: TriggerRepository, *, limits: Limits | None = None) -> None:
        self._triggers = triggers
        self._limits = limits or Limits()

    async def CreateCronTrigger(self, request: Any, context: Any) -> cron_trigger_pb2.CronTrigger:
        trigger = request.cron_trigger
        for what, value in (("input", trigger.workflow_input), ("params", trigger.workflow_params)):
            self._limits.check_size(f"workflow {what}", json.dumps(convert.plain(value)))
        notifications.validate_params(convert.plain(trigger.workflow_params))
        new = NewCronTrigger(
            name=trigger.trigger_name,
            workflow_identifier=trigger.workflow_id or trigger.workflow_name,
            workflow_namespace=trigger.workflow_namespace,
            pattern=trigger.pattern,
            timezone=trigger.timezone,
            workflow_input=convert.plain(trigger.workflow_input),
            workflow_params=convert.plain(trigger.workflow_params),
            first_execution_time=convert.from_timestamp(
                trigger.first_execution_time, trigger.HasField("first_execution_time")
            ),
            remaining_executions=(
                trigger.remaining_executions if trigger.HasField("remaining_executions") else None
            ),
            scope=identity.authorize_scope(convert.scope_from_proto(trigger.scope)),
        )
        record = await asyncio.to_thread(
            self._triggers.create, new, project_id=identity.project_id(), now=utcnow()
        )
        return cron_trigger_to_proto(record)

    async def GetCronTrigger(self, request: Any, context: Any) -> cron_trigger_pb2.CronTrigger:
        record = await asyncio.to_thread(
            self._triggers.get,
            request.name.removeprefix("cronTriggers/"),
            project_id=identity.project_id(),
        )
        return cron_trigger_to_proto(record)

    async def ListCronTriggers(
        self, request: Any, context: Any
    ) -> cron_trigger_pb2.ListCronTriggersResponse:
        query = list_query(
            filter_text=request.filter,
            order_by=request.order_by,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        page = await asyncio.to_thread(
            self._triggers.list, query, project_id=identity.list_scope(request.all_projects)
        )
        return cron_trigger_pb2.ListCronTriggersResponse(
            cron_triggers=[cron_trigger_to_proto(r) for r in page.items],
            next_page_token=page.next_marker or "",
        )

    async def DeleteCronTrigger(self, request: Any, context: Any) -> empty_pb2.Empty:
        await asyncio.to_thread(
            self._triggers.delete,
            request.name.removeprefix("cronTriggers/"),
            project_id=identity.project_id(),
        )
        return empty_pb2.Empty()

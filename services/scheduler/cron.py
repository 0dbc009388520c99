"""Firing cron triggers: exactly once per due time, across any number of schedulers.

Each due trigger is claimed in a write transaction (`FOR UPDATE SKIP LOCKED`
on PostgreSQL); in that same transaction the start request goes into the
outbox and the trigger moves to its next time. The execution id is derived
from the trigger and the due time, so a start request delivered twice starts
one execution (the engine's create is idempotent on the id).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from nats.js import JetStreamContext

from levante import metrics
from levante.backoff import Backoff
from levante.internal.v1 import engine_pb2, messages_pb2
from levante.messaging.jetstream import ENGINE_EVENTS_SUBJECT, Outgoing
from levante.messaging.outbox import OutboxRelay, add_to_outbox, utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.persistence.triggers import claim_due

log = structlog.get_logger(__name__)


def execution_id_for(trigger_id: str, due: datetime) -> str:
    """The id of the execution a trigger starts for one due time."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"levante:cron:{trigger_id}:{due.isoformat()}"))


def start_message(trigger: models.CronTrigger, due: datetime) -> Outgoing:
    """The engine event that starts the trigger's workflow for `due`."""
    execution_id = execution_id_for(trigger.id, due)
    stamp = Timestamp()
    stamp.FromDatetime(due)
    event = messages_pb2.EngineEvent(
        event_id=execution_id,
        event_time=stamp,
        execution_id=execution_id,
        root_execution_id=execution_id,
        start_execution=engine_pb2.StartExecutionRequest(
            execution_id=execution_id,
            workflow_id=trigger.workflow_id,
            workflow_namespace=trigger.workflow_namespace,
            input_json=json.dumps(trigger.workflow_input),
            params_json=json.dumps(trigger.workflow_params),
            description=f"Workflow execution created by cron trigger '({trigger.id})'.",
            project_id=trigger.project_id,
        ),
    )
    return Outgoing(execution_id, ENGINE_EVENTS_SUBJECT, event.SerializeToString())


#: Longest pause between attempts while the database or the broker is away.
_MAX_BACKOFF_SECONDS = 2.0


class CronFirer:
    """Fires due cron triggers every `interval` seconds."""

    def __init__(
        self,
        database: Database,
        js: JetStreamContext,
        *,
        interval: float = 0.25,
        batch: int = 100,
    ) -> None:
        self._db = database
        self._relay = OutboxRelay(database, js)
        self._interval = interval
        self._batch = batch
        self.fired = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Fires triggers until `stop` is set."""
        backoff = Backoff(base=self._interval, maximum=_MAX_BACKOFF_SECONDS)
        while not stop.is_set():
            pause = self._interval
            try:
                await self.fire_due()
                backoff.succeeded()
            except Exception as error:  # database or broker away: back off, try again
                pause = backoff.failed()
                if backoff.worth_logging:
                    log.warning(
                        "firing cron triggers failed; retrying",
                        error=str(error),
                        failures=backoff.failures,
                    )
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause)
            except TimeoutError:
                pass
        await self._relay.flush()

    async def fire_due(self) -> int:
        """Fires what is due now; returns how many triggers fired."""
        messages = await asyncio.to_thread(self._claim)
        if messages:
            log.info("cron triggers fired", count=len(messages))
            await self._relay.publish(messages)
            await self._relay.flush()
            self.fired += len(messages)
            metrics.CRON_FIRED.inc(len(messages))
        return len(messages)

    def _claim(self) -> list[Outgoing]:
        messages: list[Outgoing] = []
        now = utcnow()
        with self._db.write() as session:
            claim_due(
                session,
                now=now,
                limit=self._batch,
                lock=not self._db.is_sqlite,
                fired=lambda trigger, due: messages.append(start_message(trigger, due)),
            )
            add_to_outbox(session, messages, now=now)
        return messages

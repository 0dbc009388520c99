"""Recovery of work a broker outage lost: re-send if safe, fail if not, re-deliver timers."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta

from nats.aio.client import Client

from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.recovery_rules import RESENT, RecoveryTiming
from levante.scheduler.recovery import Recovery


def _action(database: Database, *, safe: bool, age: float) -> str:
    action_id = str(uuid.uuid4())
    when = utcnow() - timedelta(seconds=age)
    with database.write() as session:
        session.add(models.ActionExecution(
            id=action_id, name="std.echo", task_execution_id="task-1", task_name="t",
            workflow_execution_id="ex-1", root_execution_id="ex-1", workflow_name="wf",
            workflow_namespace="", state="RUNNING", state_info=None, accepted=False,
            item_index=0, input={"output": 1}, output=None,
            params={"target": None, "safe_rerun": safe}, description="", tags=None,
            project_id="p", created_at=when, updated_at=when,
        ))
    return action_id


def _delayed_task(database: Database, *, due_ago: float) -> str:
    task_id = str(uuid.uuid4())
    now = utcnow()
    timer = {"kind": "retry", "token": 2, "due_at": (now - timedelta(seconds=due_ago)).isoformat()}
    with database.write() as session:
        session.add(models.TaskExecution(
            id=task_id, name="t", type="ACTION", workflow_execution_id="ex-2",
            root_execution_id="ex-2", workflow_id="w", workflow_name="wf", workflow_namespace="",
            state="RUNNING_DELAYED", state_info=None, in_context={}, published={}, result=None,
            runtime_context={"timer": timer, "retry_task_policy": {"retry_no": 2}}, items=None,
            subworkflows=None, processed=False, error_handled=False, tags=[], scope="private",
            project_id="p", created_at=now, updated_at=now, started_at=now, finished_at=None,
        ))
    return task_id


async def _drain(nc: Client, stream: str, subject: str, durable: str) -> list[bytes]:
    js = nc.jetstream()
    await jetstream.ensure_consumer(js, stream=stream, durable=durable, subject=subject,
                                    ack_wait=30)
    consumer = jetstream.PullConsumer(nc, stream=stream, durable=durable, credit=50)
    await consumer.start()
    try:
        found = await consumer.next_batch(max_messages=50, timeout=2)
        for msg in found:
            await msg.ack()
        return [m.data for m in found]
    finally:
        await consumer.stop()


async def test_lost_work_is_resent_or_failed_and_lost_timers_redelivered(
    database: Database, nats_client: Client
) -> None:
    safe = _action(database, safe=True, age=600)
    unsafe = _action(database, safe=False, age=600)
    _action(database, safe=False, age=5)  # too young to judge
    task_id = _delayed_task(database, due_ago=600)
    recovery = Recovery(database, nats_client.jetstream(),
                        timing=RecoveryTiming(after_seconds=60))

    # The first sweep finds the work gone and waits for the engines to have
    # applied every event published until then (here: none); the second acts.
    assert await recovery.sweep() == 1
    assert await recovery.sweep() == 2
    with database.read() as session:  # for operators: what recovery did
        assert session.get(models.ActionExecution, safe).state_info.startswith(RESENT)
        assert session.get(models.ActionExecution, unsafe).state_info is None
    counters = recovery.counters
    assert (counters.recovered_actions, counters.failed_actions, counters.redelivered_timers) == (
        1, 1, 1)

    work = await _drain(nats_client, jetstream.WORK_STREAM, jetstream.work_filter(None), "w")
    [resent] = [messages_pb2.RunAction.FromString(data) for data in work]
    assert resent.action_execution_id == safe and json.loads(resent.input_json) == {"output": 1}
    events = [messages_pb2.EngineEvent.FromString(d) for d in await _drain(
        nats_client, jetstream.EVENTS_STREAM, jetstream.ENGINE_EVENTS_SUBJECT, "e")]
    kinds = {e.WhichOneof("event"): e for e in events}
    failure = kinds["action_result"].action_result
    assert failure.action_execution_id == unsafe
    assert "not safe to rerun" in failure.failure.message
    timer = kinds["timer_fired"].timer_fired
    assert (timer.task_execution_id, timer.kind, timer.token) == (task_id, "retry", 2)

    # Work that still exists in the stream (pending or being run) is left alone.
    assert await recovery.sweep() == 0
    await asyncio.sleep(0)


async def test_an_action_whose_result_may_wait_in_the_engines_backlog_is_not_judged_lost(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    await jetstream.ensure_consumer(js, stream=jetstream.EVENTS_STREAM,
                                    durable=jetstream.ENGINE_CONSUMER,
                                    subject=jetstream.ENGINE_EVENTS_SUBJECT, ack_wait=30)
    # An engine took this event (a result, say) and stopped before applying it.
    await js.publish(jetstream.ENGINE_EVENTS_SUBJECT, b"pending result")
    engine = jetstream.PullConsumer(nats_client, stream=jetstream.EVENTS_STREAM,
                                    durable=jetstream.ENGINE_CONSUMER, credit=1)
    await engine.start()
    [held] = await engine.next_batch(max_messages=1, timeout=5)
    unsafe = _action(database, safe=False, age=600)
    recovery = Recovery(database, js, timing=RecoveryTiming(after_seconds=60))

    assert await recovery.sweep() == 0
    assert await recovery.sweep() == 0, "the event before it is not applied yet"
    assert recovery.counters.failed_actions == 0

    # Applied (acked), and the action is still RUNNING: its result was not in there.
    await held.ack()
    await engine.stop()
    async with asyncio.timeout(10):
        while (await js.consumer_info(jetstream.EVENTS_STREAM,
                                      jetstream.ENGINE_CONSUMER)).num_ack_pending:
            await asyncio.sleep(0.05)
    assert await recovery.sweep() == 1
    assert recovery.counters.failed_actions == 1
    events = [messages_pb2.EngineEvent.FromString(d) for d in await _drain(
        nats_client, jetstream.EVENTS_STREAM, jetstream.ENGINE_EVENTS_SUBJECT, "engine")]
    assert [e.action_result.action_execution_id for e in events] == [unsafe]

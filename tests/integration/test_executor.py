"""The executor against a real JetStream: at-least-once, ack after the result is safe."""

from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client

from levante.executor.worker import Executor
from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream


async def _publish_work(
    nc: Client, *, action: str, action_input: dict, action_id: str, safe_rerun: bool = False
) -> None:
    work = messages_pb2.RunAction(
        command_id=action_id,
        action_execution_id=action_id,
        task_execution_id="task-1",
        execution_id="ex-1",
        root_execution_id="ex-1",
        action_name=action,
        input_json=json.dumps(action_input).encode(),
        safe_rerun=safe_rerun,
    )
    await jetstream.publish_all(
        nc.jetstream(),
        [jetstream.Outgoing(action_id, jetstream.work_subject(None), work.SerializeToString())],
    )


async def _events(nc: Client, count: int) -> list[messages_pb2.EngineEvent]:
    js = nc.jetstream()
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.EVENTS_STREAM,
        durable=jetstream.ENGINE_CONSUMER,
        subject=jetstream.ENGINE_EVENTS_SUBJECT,
        ack_wait=30,
    )
    consumer = jetstream.PullConsumer(
        nc, stream=jetstream.EVENTS_STREAM, durable=jetstream.ENGINE_CONSUMER, credit=10
    )
    await consumer.start()
    found: list[messages_pb2.EngineEvent] = []
    try:
        async with asyncio.timeout(20):
            while len(found) < count:
                for msg in await consumer.next_batch(max_messages=10, timeout=1):
                    event = messages_pb2.EngineEvent()
                    event.ParseFromString(msg.data)
                    found.append(event)
                    await msg.ack()
                    await consumer.done()
    finally:
        await consumer.stop()
    return found


async def _run_executor(nc: Client, stop: asyncio.Event) -> asyncio.Task[None]:
    js = nc.jetstream()
    durable = jetstream.executor_consumer(None)
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.WORK_STREAM,
        durable=durable,
        subject=jetstream.work_subject(None),
        ack_wait=30,
    )
    consumer = jetstream.PullConsumer(nc, stream=jetstream.WORK_STREAM, durable=durable, credit=8)
    await consumer.start()
    return asyncio.create_task(Executor(js, concurrency=8).run(consumer, stop))


async def test_results_are_reported_and_work_is_acked(nats_client: Client) -> None:
    stop = asyncio.Event()
    runner = await _run_executor(nats_client, stop)
    await _publish_work(
        nats_client, action="std.echo", action_input={"output": [1, 2]}, action_id="a-1"
    )
    await _publish_work(
        nats_client, action="std.fail", action_input={"error_data": {"code": 7}}, action_id="a-2"
    )
    await _publish_work(nats_client, action="std.echo", action_input={"nope": 1}, action_id="a-3")
    events = {e.action_result.action_execution_id: e for e in await _events(nats_client, 3)}
    stop.set()
    await runner

    assert json.loads(events["a-1"].action_result.result_json) == [1, 2]
    failure = events["a-2"].action_result.failure
    assert json.loads(failure.data_json) == {"code": 7}
    assert "missing=['output'], unexpected=['nope']" in events["a-3"].action_result.failure.message
    assert all(e.root_execution_id == "ex-1" and e.event_id for e in events.values())
    info = await nats_client.jetstream().stream_info(jetstream.WORK_STREAM)
    assert info.state.messages == 0, "acked work leaves the work queue"


async def test_redelivered_work_runs_again_only_if_safe(nats_client: Client) -> None:
    js = nats_client.jetstream()
    durable = jetstream.executor_consumer(None)
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.WORK_STREAM,
        durable=durable,
        subject=jetstream.work_subject(None),
        ack_wait=30,
    )
    await _publish_work(
        nats_client, action="std.echo", action_input={"output": "x"}, action_id="unsafe"
    )
    await _publish_work(
        nats_client,
        action="std.echo",
        action_input={"output": "y"},
        action_id="safe",
        safe_rerun=True,
    )
    # A first executor takes both and dies without acking (nak = redeliver now).
    first = jetstream.PullConsumer(
        nats_client, stream=jetstream.WORK_STREAM, durable=durable, credit=2
    )
    await first.start()
    taken = []
    async with asyncio.timeout(10):
        while len(taken) < 2:
            taken += await first.next_batch(max_messages=2, timeout=1)
    await first.stop()
    for msg in taken:
        await msg.nak()

    stop = asyncio.Event()
    runner = await _run_executor(nats_client, stop)
    events = {e.action_result.action_execution_id: e for e in await _events(nats_client, 2)}
    stop.set()
    await runner
    assert json.loads(events["safe"].action_result.result_json) == "y"
    unsafe = events["unsafe"].action_result
    assert unsafe.WhichOneof("outcome") == "failure"
    assert "not safe to rerun" in unsafe.failure.message

"""The executor against a real JetStream: at-least-once, ack after the result is safe."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import structlog
from nats.aio.client import Client

from levante.actions import Action, ActionCatalogue, ActionContext, CatalogueEntry, secret
from levante.executor.intake import WorkIntake
from levante.executor.worker import Executor
from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream


async def publish_work(
    nc: Client,
    *,
    action: str,
    action_input: dict,
    action_id: str,
    safe_rerun: bool = False,
    **fields: Any,
) -> None:
    """Publishes one RunAction for the default target."""
    work = messages_pb2.RunAction(
        command_id=action_id,
        action_execution_id=action_id,
        task_execution_id="task-1",
        execution_id="ex-1",
        root_execution_id="ex-1",
        action_name=action,
        input_json=json.dumps(action_input).encode(),
        safe_rerun=safe_rerun,
        **fields,
    )
    await jetstream.publish_all(
        nc.jetstream(),
        [
            jetstream.Outgoing(
                action_id, jetstream.work_subject(None, action_id), work.SerializeToString()
            )
        ],
    )


async def collect_events(
    nc: Client, count: int, *, timeout: float = 20, settle: float = 0
) -> list[messages_pb2.EngineEvent]:
    """Takes `count` engine events (then any more arriving within `settle` seconds)."""
    js = nc.jetstream()
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.EVENTS_STREAM,
        durable=jetstream.ENGINE_CONSUMER,
        subject=jetstream.ENGINE_EVENTS_SUBJECT,
        ack_wait=30,
    )
    consumer = jetstream.PullConsumer(
        nc, stream=jetstream.EVENTS_STREAM, durable=jetstream.ENGINE_CONSUMER, credit=64
    )
    await consumer.start()
    found: list[messages_pb2.EngineEvent] = []

    async def take(wait: float) -> int:
        batch = await consumer.next_batch(max_messages=64, timeout=wait)
        for msg in batch:
            event = messages_pb2.EngineEvent()
            event.ParseFromString(msg.data)
            found.append(event)
            await msg.ack()
            await consumer.done()
        return len(batch)

    try:
        async with asyncio.timeout(timeout):
            while len(found) < count:
                await take(1)
        if settle:
            while await take(settle):
                pass
    finally:
        await consumer.stop()
    return found


async def ensure_work_consumer(nc: Client, *, ack_wait: float = 30) -> str:
    """Creates the default target's durable work consumer; returns its name."""
    durable = jetstream.executor_consumer(None)
    await jetstream.ensure_consumer(
        nc.jetstream(),
        stream=jetstream.WORK_STREAM,
        durable=durable,
        subject=jetstream.work_filter(None),
        ack_wait=ack_wait,
    )
    return durable


async def start_executor(
    nc: Client,
    stop: asyncio.Event,
    *,
    catalogue: ActionCatalogue | None = None,
    js: Any = None,
    concurrency: int = 8,
    expires: float = 1.0,
    **options: Any,
) -> asyncio.Task[None]:
    """Runs an Executor with its own intake on the shared durable consumer until `stop`."""
    durable = await ensure_work_consumer(nc)
    intake = WorkIntake(nc, stream=jetstream.WORK_STREAM, durable=durable, expires=expires)
    await intake.start()
    executor = Executor(js or nc.jetstream(), catalogue, concurrency=concurrency, **options)

    async def run() -> None:
        try:
            await executor.run(intake, stop)
        finally:
            await intake.stop()

    return asyncio.create_task(run())


async def test_results_are_reported_and_work_is_acked(nats_client: Client) -> None:
    stop = asyncio.Event()
    runner = await start_executor(nats_client, stop)
    await publish_work(
        nats_client, action="std.echo", action_input={"output": [1, 2]}, action_id="a-1"
    )
    await publish_work(
        nats_client, action="std.fail", action_input={"error_data": {"code": 7}}, action_id="a-2"
    )
    await publish_work(nats_client, action="std.echo", action_input={"nope": 1}, action_id="a-3")
    await publish_work(nats_client, action="std.async_noop", action_input={}, action_id="a-4")
    await publish_work(nats_client, action="no.such", action_input={}, action_id="a-5")
    events = {e.action_result.action_execution_id: e for e in await collect_events(nats_client, 5)}
    stop.set()
    await runner

    assert json.loads(events["a-1"].action_result.result_json) == [1, 2]
    failure = events["a-2"].action_result.failure
    assert json.loads(failure.data_json) == {"code": 7}
    assert events["a-3"].action_result.failure.message == (
        "Invalid input [name=std.echo, class=EchoAction, missing=['output'], unexpected=['nope']]"
    )
    assert events["a-4"].action_result.WhichOneof("outcome") == "pending"
    assert events["a-5"].action_result.failure.message == (
        "Failed to find action [action_name=no.such]"
    )
    assert all(e.root_execution_id == "ex-1" and e.event_id for e in events.values())
    info = await nats_client.jetstream().stream_info(jetstream.WORK_STREAM)
    assert info.state.messages == 0, "acked work leaves the work queue"


async def test_redelivered_work_runs_again_only_if_safe(nats_client: Client) -> None:
    durable = await ensure_work_consumer(nats_client)
    await publish_work(
        nats_client, action="std.echo", action_input={"output": "x"}, action_id="unsafe"
    )
    await publish_work(
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
    runner = await start_executor(nats_client, stop)
    events = {e.action_result.action_execution_id: e for e in await collect_events(nats_client, 2)}
    stop.set()
    await runner
    assert json.loads(events["safe"].action_result.result_json) == "y"
    unsafe = events["unsafe"].action_result
    assert unsafe.WhichOneof("outcome") == "failure"
    assert "not safe to rerun" in unsafe.failure.message


class CaptureAction(Action):
    """Returns what it saw of its context."""

    async def run(self, context: ActionContext) -> dict[str, Any]:
        return {
            "security": [context.security.project_id, context.security.user],
            "execution": [
                context.execution.workflow_name,
                context.execution.workflow_namespace,
                context.execution.workflow_execution_id,
                context.execution.task_name,
                context.execution.task_execution_id,
                context.execution.action_execution_id,
                context.execution.callback_url,
            ],
            "custom": dict(context.custom_context),
        }


@secret("token")
class LeakyAction(Action):
    """Fails with a message that contains its secret input."""

    async def run(self, context: ActionContext, *, token: str) -> None:
        raise RuntimeError(f"could not log in with {token}")


async def test_actions_get_their_context_and_secrets_stay_out_of_logs(
    nats_client: Client,
) -> None:
    catalogue = ActionCatalogue(
        [
            *ActionCatalogue.standard(),
            CatalogueEntry.of("test.capture", CaptureAction),
            CatalogueEntry.of("test.leaky", LeakyAction),
        ]
    )
    stop = asyncio.Event()
    with structlog.testing.capture_logs() as logs:
        runner = await start_executor(
            nats_client, stop, catalogue=catalogue, public_url="https://levante.example/v2/"
        )
        await publish_work(
            nats_client,
            action="test.capture",
            action_input={},
            action_id="cap-1",
            workflow_name="wf",
            workflow_namespace="ns",
            task_name="t1",
            project_id="proj-9",
            custom_context_json=json.dumps({"correlation_id": "12da"}).encode(),
        )
        await publish_work(
            nats_client, action="test.leaky", action_input={"token": "hunter2-x"}, action_id="l-1"
        )
        await publish_work(
            nats_client,
            action="std.http",
            action_input={"url": "http://127.0.0.1:9/", "auth": "me:hunter3-y"},
            action_id="h-1",
        )
        found = await collect_events(nats_client, 3)
        stop.set()
        await runner
    catalogue.close()
    events = {e.action_result.action_execution_id: e.action_result for e in found}
    assert json.loads(events["cap-1"].result_json) == {
        "security": ["proj-9", None],
        "execution": [
            "wf",
            "ns",
            "ex-1",
            "t1",
            "task-1",
            "cap-1",
            "https://levante.example/v2/action_executions/cap-1",
        ],
        "custom": {"correlation_id": "12da"},
    }
    assert events["l-1"].failure.message == (
        "The action raised an exception [action=test.leaky, "
        "error=RuntimeError: could not log in with ***]"
    )
    assert "refusing to connect to 127.0.0.1" in events["h-1"].failure.message
    logged = repr(logs)
    assert "hunter2-x" not in logged and "hunter3-y" not in logged
    assert "could not log in with ***" in logged, "the exception was logged, scrubbed"


async def test_heartbeats_keep_a_slow_action_from_being_redelivered(
    nats_client: Client,
) -> None:
    await ensure_work_consumer(nats_client, ack_wait=1)
    stop = asyncio.Event()
    runner = await start_executor(nats_client, stop, heartbeat_seconds=0.25)
    await publish_work(
        nats_client,
        action="std.echo",
        action_input={"output": "late", "delay": 2.0},
        action_id="slow",
    )
    found = await collect_events(nats_client, 1, settle=1.0)
    stop.set()
    await runner
    assert [e.action_result.action_execution_id for e in found] == ["slow"]
    assert json.loads(found[0].action_result.result_json) == "late"
    info = await nats_client.jetstream().consumer_info(
        jetstream.WORK_STREAM, jetstream.executor_consumer(None)
    )
    assert info.num_redelivered == 0 and info.num_ack_pending == 0

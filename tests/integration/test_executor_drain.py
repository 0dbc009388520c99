"""Graceful drain: an executor stopped mid-stream finishes what it took and loses nothing.

Two executors share the default target's durable consumer. One is stopped
while 200 `std.sleep` actions (none safe to rerun) are being worked off: the
stopped one must run what it was delivered, publish and ack it; the other
takes the rest. Every action must run exactly once and have exactly one
result published, and no result may be the "interrupted, not safe to rerun"
failure.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any

from nats.aio.client import Client
from nats.js import JetStreamContext

from levante.actions import ActionCatalogue, ActionContext, Outcome
from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream
from tests.integration.test_executor import (
    collect_events,
    ensure_work_consumer,
    publish_work,
    start_executor,
)

ACTIONS = 200


class RecordingCatalogue(ActionCatalogue):
    """The standard actions, recording which executor ran which action execution."""

    def __init__(self, label: str, runs: list[tuple[str, str]]) -> None:
        super().__init__(ActionCatalogue.standard())
        self._label = label
        self._runs = runs
        self.fast_echo = False

    async def run(
        self, name: str, action_input: Mapping[str, Any], context: ActionContext, **kw: Any
    ) -> Outcome:
        self._runs.append((self._label, context.execution.action_execution_id))
        if self.fast_echo and name == "std.echo":
            action_input = {**action_input, "delay": 0}
        return await super().run(name, action_input, context, **kw)


class CountingJetStream:
    """Counts the result events an executor publishes, per action execution."""

    def __init__(self, js: JetStreamContext, published: Counter[str]) -> None:
        self._js = js
        self._published = published

    async def publish(self, subject: str, payload: bytes, **options: Any) -> Any:
        answer = await self._js.publish(subject, payload, **options)
        event = messages_pb2.EngineEvent()
        event.ParseFromString(payload)
        self._published[event.action_result.action_execution_id] += 1
        return answer


async def test_a_stopped_executor_finishes_its_work_and_nothing_runs_twice(
    nats_client: Client,
) -> None:
    runs: list[tuple[str, str]] = []
    published: Counter[str] = Counter()
    counting = CountingJetStream(nats_client.jetstream(), published)
    stop_a, stop_b = asyncio.Event(), asyncio.Event()
    catalogue_a, catalogue_b = RecordingCatalogue("a", runs), RecordingCatalogue("b", runs)
    runner_a = await start_executor(nats_client, stop_a, catalogue=catalogue_a, js=counting)
    runner_b = await start_executor(nats_client, stop_b, catalogue=catalogue_b, js=counting)
    for index in range(ACTIONS):
        await publish_work(
            nats_client,
            action="std.sleep",
            action_input={"seconds": 0.2},
            action_id=f"sleep-{index:03d}",
        )

    async with asyncio.timeout(20):
        while len(runs) < 40:
            await asyncio.sleep(0.02)
    stop_a.set()
    stopped_at = time.monotonic()
    await runner_a
    drain_seconds = time.monotonic() - stopped_at
    ran_by_a = sum(1 for label, _ in runs if label == "a")

    events = await collect_events(nats_client, ACTIONS, timeout=30, settle=1.0)
    stop_b.set()
    await runner_b
    catalogue_a.close()
    catalogue_b.close()

    ids = {f"sleep-{index:03d}" for index in range(ACTIONS)}
    run_counts = Counter(action_id for _, action_id in runs)
    assert set(run_counts) == ids and set(run_counts.values()) == {1}, "each ran exactly once"
    assert set(published) == ids and set(published.values()) == {1}, "one result published each"
    event_counts = Counter(e.action_result.action_execution_id for e in events)
    assert set(event_counts) == ids and set(event_counts.values()) == {1}
    outcomes = Counter(e.action_result.WhichOneof("outcome") for e in events)
    assert outcomes == {"result_json": ACTIONS}, [
        e.action_result.failure.message for e in events if e.action_result.HasField("failure")
    ]
    assert 0 < ran_by_a < ACTIONS, "both executors took part"
    assert drain_seconds < 5, "the drain waits for in-flight actions and one pull request only"
    js = nats_client.jetstream()
    info = await js.consumer_info(jetstream.WORK_STREAM, jetstream.executor_consumer(None))
    assert info.num_redelivered == 0 and info.num_ack_pending == 0
    assert (await js.stream_info(jetstream.WORK_STREAM)).state.messages == 0


async def test_actions_outliving_the_grace_period_are_left_for_redelivery(
    nats_client: Client,
) -> None:
    await ensure_work_consumer(nats_client, ack_wait=1)
    runs: list[tuple[str, str]] = []
    stop_a = asyncio.Event()
    catalogue_a = RecordingCatalogue("a", runs)
    runner_a = await start_executor(
        nats_client, stop_a, catalogue=catalogue_a, grace_seconds=0.3, heartbeat_seconds=0.25
    )
    await publish_work(
        nats_client, action="std.sleep", action_input={"seconds": 30}, action_id="unsafe"
    )
    await publish_work(
        nats_client,
        action="std.echo",
        action_input={"output": "again", "delay": 30},
        action_id="safe",
        safe_rerun=True,
    )
    async with asyncio.timeout(10):
        while len(runs) < 2:
            await asyncio.sleep(0.02)
    stop_a.set()
    async with asyncio.timeout(5):
        await runner_a
    catalogue_a.close()

    # Redelivered after ack_wait to the next executor: the safe one runs again
    # (quickly this time: a test double of std.echo), the unsafe one fails.
    stop_b = asyncio.Event()
    catalogue_b = RecordingCatalogue("b", runs)
    catalogue_b.fast_echo = True
    runner_b = await start_executor(nats_client, stop_b, catalogue=catalogue_b)
    events = {
        e.action_result.action_execution_id: e.action_result
        for e in await collect_events(nats_client, 2, timeout=15)
    }
    stop_b.set()
    await runner_b
    catalogue_b.close()
    assert "not safe to rerun" in events["unsafe"].failure.message
    assert json.loads(events["safe"].result_json) == "again"
    assert sorted(runs) == [("a", "safe"), ("a", "unsafe"), ("b", "safe")]


async def test_work_delivered_during_the_drain_is_run_not_stranded(nats_client: Client) -> None:
    runs: list[tuple[str, str]] = []
    stop = asyncio.Event()
    catalogue = RecordingCatalogue("a", runs)
    # One long-lived pull request is outstanding when the stop comes.
    runner = await start_executor(nats_client, stop, catalogue=catalogue, expires=2.0)
    await asyncio.sleep(0.3)
    stop.set()
    await asyncio.sleep(0.7)
    for index in range(3):
        await publish_work(
            nats_client,
            action="std.echo",
            action_input={"output": index},
            action_id=f"late-{index}",
        )
    assert not runner.done(), "still draining: its last pull request has not expired"
    async with asyncio.timeout(10):
        await runner
    catalogue.close()
    assert sorted(action_id for _, action_id in runs) == ["late-0", "late-1", "late-2"]
    events = await collect_events(nats_client, 3, timeout=5)
    assert sorted(json.loads(e.action_result.result_json) for e in events) == [0, 1, 2]
    js = nats_client.jetstream()
    info = await js.consumer_info(jetstream.WORK_STREAM, jetstream.executor_consumer(None))
    assert info.num_redelivered == 0 and info.num_ack_pending == 0

"""Executor throughput: std.noop actions per second through one executor.

Starts a throwaway nats-server (JetStream, temp store), queues --actions
RunAction messages for `std.noop`, then starts one executor and measures the
time until every result event has been published (seen on the events
subject):

    .venv/bin/python bench/executor.py [--actions 10000] [--concurrency 64]

Prints actions/second and the wall time.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from nats.aio.msg import Msg

from levante import logs
from levante.actions import ActionCatalogue
from levante.embedded import EmbeddedNats
from levante.executor.intake import WorkIntake
from levante.executor.worker import ACK_WAIT_SECONDS, Executor
from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream


async def queue_work(js: jetstream.JetStreamContext, count: int) -> None:
    """Publishes `count` std.noop RunAction messages for the default target."""
    for start in range(0, count, 500):
        batch = []
        for index in range(start, min(count, start + 500)):
            action_id = f"bench-{index}"
            work = messages_pb2.RunAction(
                command_id=action_id,
                action_execution_id=action_id,
                task_execution_id=f"task-{index}",
                execution_id="bench",
                root_execution_id="bench",
                action_name="std.noop",
                input_json=b"{}",
            )
            subject = jetstream.work_subject(None, action_id)
            batch.append(jetstream.Outgoing(action_id, subject, work.SerializeToString()))
        await jetstream.publish_all(js, batch, timeout=30)


async def measure(actions: int, concurrency: int) -> float:
    """Seconds one executor takes to run and report `actions` std.noop actions."""
    with tempfile.TemporaryDirectory() as data_dir:
        server = EmbeddedNats(Path(data_dir))
        await server.start()
        try:
            return await _measure(server.url, actions, concurrency)
        finally:
            await server.stop()


async def _measure(url: str, actions: int, concurrency: int) -> float:
    producer = await jetstream.connect(url, name="bench-producer")
    worker = await jetstream.connect(url, name="bench-executor")
    try:
        js = producer.jetstream()
        await jetstream.ensure_streams(js)
        durable = jetstream.executor_consumer(None)
        await jetstream.ensure_consumer(
            js,
            stream=jetstream.WORK_STREAM,
            durable=durable,
            subject=jetstream.work_filter(None),
            ack_wait=ACK_WAIT_SECONDS,
        )
        await queue_work(js, actions)
        seen = 0
        all_seen = asyncio.Event()

        async def count(msg: Msg) -> None:
            nonlocal seen
            seen += 1
            if seen >= actions:
                all_seen.set()

        await producer.subscribe(jetstream.ENGINE_EVENTS_SUBJECT, cb=count)
        await producer.flush()
        intake = WorkIntake(worker, stream=jetstream.WORK_STREAM, durable=durable)
        await intake.start()
        catalogue = ActionCatalogue.standard()
        executor = Executor(worker.jetstream(), catalogue, concurrency=concurrency)
        stop = asyncio.Event()
        started = time.perf_counter()
        runner = asyncio.create_task(executor.run(intake, stop))
        await asyncio.wait_for(all_seen.wait(), timeout=600)
        elapsed = time.perf_counter() - started
        stop.set()
        await runner
        await intake.stop()
        catalogue.close()
        return elapsed
    finally:
        await worker.close()
        await producer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    options = parser.parse_args()
    logs.configure(level="warning")
    elapsed = asyncio.run(measure(options.actions, options.concurrency))
    print(
        f"executor: {options.actions} std.noop actions in {elapsed:.2f} s = "
        f"{options.actions / elapsed:,.0f} actions/s (concurrency {options.concurrency})"
    )


if __name__ == "__main__":
    main()

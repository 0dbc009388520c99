"""A draining engine consumer gives its unapplied events back at once, not after ack_wait.

An engine stopped with SIGTERM finishes the batch in hand; what its pull
consumer already received (or its last pull request still delivers) is
nak'ed, so the other engine applies it within moments. Before, those events
waited for the consumer's ack_wait (30 s), and the scheduler's recovery
could meanwhile take an action whose result was among them for lost.
"""

from __future__ import annotations

import asyncio
import time

from nats.aio.client import Client

from levante.messaging import jetstream


async def test_drain_releases_held_and_late_messages(nats_client: Client) -> None:
    js = nats_client.jetstream()
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.EVENTS_STREAM,
        durable=jetstream.ENGINE_CONSUMER,
        subject=jetstream.ENGINE_EVENTS_SUBJECT,
        ack_wait=30,
    )
    for index in range(5):
        await js.publish(jetstream.ENGINE_EVENTS_SUBJECT, f"event-{index}".encode())
    first = jetstream.PullConsumer(
        nats_client, stream=jetstream.EVENTS_STREAM, durable=jetstream.ENGINE_CONSUMER, credit=20
    )
    await first.start()
    [taken] = await first.next_batch(max_messages=1, timeout=5)
    await taken.ack()
    async with asyncio.timeout(5):
        while first._queue.qsize() < 4:  # the rest arrived and are held, not handed out
            await asyncio.sleep(0.02)
    began = time.monotonic()
    # Its pull request is still open: a message published now reaches it while draining.
    drain = asyncio.create_task(first.drain())
    await js.publish(jetstream.ENGINE_EVENTS_SUBJECT, b"late")
    released = await drain
    assert released == 5

    second = jetstream.PullConsumer(
        nats_client, stream=jetstream.EVENTS_STREAM, durable=jetstream.ENGINE_CONSUMER, credit=20
    )
    await second.start()
    received: list[bytes] = []
    async with asyncio.timeout(10):
        while len(received) < 5:
            for msg in await second.next_batch(max_messages=20, timeout=1):
                received.append(msg.data)
                await msg.ack()
    await second.stop()
    assert sorted(received) == sorted([f"event-{i}".encode() for i in range(1, 5)] + [b"late"])
    assert time.monotonic() - began < 15, "redelivered at once, not after ack_wait"

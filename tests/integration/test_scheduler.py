"""The scheduler against real databases and a real nats-server: timers and cron, once each."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from nats.aio.client import Client
from sqlalchemy import func, select

from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database
from levante.scheduler.cron import CronFirer
from levante.scheduler.timers import TimerPump


def _add_timers(database: Database, count: int, *, due_in: float = 0.0) -> set[str]:
    now = utcnow()
    ids = set()
    with database.write() as session:
        for _ in range(count):
            timer_id = str(uuid.uuid4())
            event = messages_pb2.EngineEvent(
                event_id=timer_id,
                execution_id="ex",
                root_execution_id="ex",
                timer_fired=messages_pb2.TimerFired(
                    timer_id=timer_id, kind="retry", task_execution_id="t"
                ),
            )
            session.add(
                models.Timer(
                    id=timer_id,
                    due_at=now + timedelta(seconds=due_in),
                    leased_until=None,
                    root_execution_id="ex",
                    task_execution_id="t",
                    subject=jetstream.ENGINE_EVENTS_SUBJECT,
                    payload=event.SerializeToString(),
                    created_at=now,
                )
            )
            ids.add(timer_id)
    return ids


async def _received(nc: Client, expected: int, *, quiet: float = 1.0) -> list[str]:
    """Event ids on the engine stream: waits for `expected`, then `quiet` more seconds."""
    js = nc.jetstream()
    await jetstream.ensure_consumer(
        js,
        stream=jetstream.EVENTS_STREAM,
        durable="probe",
        subject=jetstream.ENGINE_EVENTS_SUBJECT,
        ack_wait=30,
    )
    consumer = jetstream.PullConsumer(
        nc, stream=jetstream.EVENTS_STREAM, durable="probe", credit=500
    )
    await consumer.start()
    seen: list[str] = []
    try:
        async with asyncio.timeout(30):
            while len(seen) < expected:
                for msg in await consumer.next_batch(max_messages=500, timeout=0.5):
                    event = messages_pb2.EngineEvent()
                    event.ParseFromString(msg.data)
                    seen.append(event.event_id)
                    await msg.ack()
                await consumer.done(0)
        extra = await consumer.next_batch(max_messages=500, timeout=quiet)
        for msg in extra:
            event = messages_pb2.EngineEvent()
            event.ParseFromString(msg.data)
            seen.append(event.event_id)
    finally:
        await consumer.stop()
    return seen


async def test_two_schedulers_deliver_each_timer_once(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    total = 0
    for _ in range(20):
        ids = _add_timers(database, 10)
        total += len(ids)
        first, second = TimerPump(database, js), TimerPump(database, js)
        counts = await asyncio.gather(first.deliver_due(), second.deliver_due())
        assert sum(counts) == 10
    seen = await _received(nats_client, total)
    assert len(seen) == len(set(seen)) == total
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(models.Timer)) == 0


async def test_a_timer_survives_a_scheduler_that_died_after_claiming(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    [timer_id] = _add_timers(database, 1)
    dying = TimerPump(database, js, lease_seconds=0.5)
    claimed = await asyncio.to_thread(dying._claim)  # claimed, then the process "dies"
    assert [m.msg_id for m in claimed] == [timer_id]
    restarted = TimerPump(database, js)
    assert await restarted.deliver_due() == 0, "still leased by the dead scheduler"
    await asyncio.sleep(0.6)
    assert await restarted.deliver_due() == 1
    assert await _received(nats_client, 1) == [timer_id]


class _AwayBroker:
    """A JetStream context whose broker does not answer."""

    async def publish(self, *args: object, **kwargs: object) -> None:
        raise TimeoutError("nats: timeout")


async def test_a_timer_the_broker_refused_is_given_back_at_once(
    database: Database, nats_client: Client
) -> None:
    [timer_id] = _add_timers(database, 1)
    away = TimerPump(database, _AwayBroker())  # type: ignore[arg-type]
    with pytest.raises(TimeoutError):
        await away.deliver_due()
    with database.read() as session:
        assert session.get(models.Timer, timer_id).leased_until is None, "not held for a lease"
    back = TimerPump(database, nats_client.jetstream())
    assert await back.deliver_due() == 1, "the next attempt takes it"
    assert await _received(nats_client, 1) == [timer_id]


async def test_a_future_timer_waits_and_then_fires_on_time(
    database: Database, nats_client: Client
) -> None:
    js = nats_client.jetstream()
    _add_timers(database, 1, due_in=0.5)
    pump = TimerPump(database, js)
    stop = asyncio.Event()
    runner = asyncio.create_task(pump.run(stop))
    await asyncio.sleep(0.3)
    assert pump.delivered == 0
    await asyncio.sleep(0.4)
    stop.set()
    await runner
    assert pump.delivered == 1


@pytest.mark.parametrize("round_", range(3))
async def test_two_schedulers_fire_a_cron_due_time_once(
    database: Database, nats_client: Client, round_: int
) -> None:
    js = nats_client.jetstream()
    now = utcnow()
    with database.write() as session:
        session.add(
            models.CronTrigger(
                id=str(uuid.uuid4()),
                name=f"t{round_}",
                pattern="0 0 * * *",
                timezone="",
                workflow_name="wf",
                workflow_id=str(uuid.uuid4()),
                workflow_namespace="",
                workflow_input={},
                workflow_params={},
                first_execution_time=None,
                next_execution_time=now - timedelta(hours=5),
                remaining_executions=None,
                scope="private",
                project_id="p",
                created_at=now,
                updated_at=None,
            )
        )
    fired = await asyncio.gather(
        CronFirer(database, js).fire_due(), CronFirer(database, js).fire_due()
    )
    assert sum(fired) == 1
    seen = await _received(nats_client, 1)
    assert len(seen) == 1
    with database.read() as session:
        trigger = session.scalars(select(models.CronTrigger)).one()
        # Missed times (five hours of them) fired once; the next is in the future.
        assert trigger.next_execution_time > now

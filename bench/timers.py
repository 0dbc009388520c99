"""Timer resolution and throughput of one scheduler (real nats-server, SQLite or PostgreSQL).

    .venv/bin/python bench/timers.py [--timers 10000] [--database-url URL]

Phase 1 (resolution): 50 timers due at spread instants; prints how late each
was published (due time -> broker ack), median and max. Phase 2 (throughput):
N timers all due now; prints timers published per second by one scheduler.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from levante.embedded import EmbeddedNats
from levante.internal.v1 import messages_pb2
from levante.messaging import jetstream
from levante.messaging.outbox import utcnow
from levante.persistence import migrate, models
from levante.persistence.db import Database
from levante.scheduler.timers import TimerPump


def add_timers(database: Database, offsets: list[float]) -> None:
    now = utcnow()
    with database.write() as session:
        for offset in offsets:
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
                    due_at=now + timedelta(seconds=offset),
                    leased_until=None,
                    root_execution_id="ex",
                    task_execution_id="t",
                    subject=jetstream.ENGINE_EVENTS_SUBJECT,
                    payload=event.SerializeToString(),
                    created_at=now,
                )
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=10_000)
    parser.add_argument("--database-url", default=None)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(options.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(database)
        broker = EmbeddedNats(Path(tmp) / "nats")
        await broker.start()
        nc = await jetstream.connect(broker.url, name="bench")
        js = nc.jetstream()
        await jetstream.ensure_streams(js)
        pump = TimerPump(database, js)
        try:
            # Resolution: publish-ack lateness of timers due at spread instants.
            lateness = []
            start = time.time()
            offsets = [0.5 + i * 0.037 for i in range(50)]
            add_timers(database, offsets)
            stop = asyncio.Event()
            original = pump.deliver_due

            async def measured() -> int:
                count = await original()
                if count:
                    now = time.time()
                    due = [start + o for o in offsets if start + o <= now]
                    lateness.extend(now - d for d in due[len(lateness) : len(lateness) + count])
                return count

            pump.deliver_due = measured  # type: ignore[method-assign]
            runner = asyncio.create_task(pump.run(stop))
            await asyncio.sleep(offsets[-1] + 1.0)
            stop.set()
            await runner
            pump.deliver_due = original  # type: ignore[method-assign]
            print(
                f"resolution: {len(lateness)} timers, lateness median "
                f"{statistics.median(lateness) * 1000:.1f} ms, max {max(lateness) * 1000:.1f} ms"
            )

            add_timers(database, [0.0] * options.timers)
            began = time.perf_counter()
            delivered = 0
            while delivered < options.timers:
                delivered += await pump.deliver_due()
            elapsed = time.perf_counter() - began
            print(
                f"throughput: {options.timers} due timers published in {elapsed:.2f} s "
                f"= {options.timers / elapsed:,.0f} timers/s (one scheduler)"
            )
        finally:
            await nc.close()
            await broker.stop()
            database.dispose()


if __name__ == "__main__":
    asyncio.run(main())

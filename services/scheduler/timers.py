"""Durable timers: deliver the engine's delayed events on time, once.

Mechanism (and why): timers are rows of the `timers` table, written by the
engine in the same transaction as the state change that needs them, so a
timer exists exactly when its execution says it waits for one. The scheduler
polls for due rows every 50 ms (an indexed range scan that touches nothing
while no timer is due, so 10,000 pending timers cost nothing), leases them
(`FOR UPDATE SKIP LOCKED` on PostgreSQL, so several schedulers never take the
same row; SQLite has one writer at a time anyway), publishes each event to
JetStream with `Nats-Msg-Id` = timer id, waits for the broker's ack, and
deletes the rows. A scheduler that dies between publish and delete leaves
rows whose lease expires: they are published again and JetStream drops the
duplicate (within its two-minute window), while the engine ignores any timer
for an attempt or task that moved on. This works with every nats-server
(JetStream's own message scheduling needs 2.12+) and for SQLite and
PostgreSQL alike.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from nats.js import JetStreamContext
from sqlalchemy import delete, or_, select, update

from levante import metrics
from levante.backoff import Backoff
from levante.messaging.jetstream import Outgoing, publish_all
from levante.messaging.outbox import utcnow
from levante.persistence import models
from levante.persistence.db import Database

log = structlog.get_logger(__name__)

#: Longest pause between attempts while the database or the broker is away.
_MAX_BACKOFF_SECONDS = 2.0


class TimerPump:
    """Publishes due timers; run one or many (they share the work safely)."""

    def __init__(
        self,
        database: Database,
        js: JetStreamContext,
        *,
        interval: float = 0.05,
        lease_seconds: float = 30.0,
        batch: int = 500,
    ) -> None:
        self._db = database
        self._js = js
        self._interval = interval
        self._lease = timedelta(seconds=lease_seconds)
        self._batch = batch
        self.delivered = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Delivers due timers until `stop` is set."""
        backoff = Backoff(base=self._interval, maximum=_MAX_BACKOFF_SECONDS)
        while not stop.is_set():
            pause = self._interval
            try:
                count = await self.deliver_due()
                backoff.succeeded()
            except Exception as error:  # database or broker away: back off, try again
                pause, count = backoff.failed(), 0
                if backoff.worth_logging:
                    log.warning(
                        "delivering timers failed; retrying",
                        error=str(error),
                        failures=backoff.failures,
                    )
            if count < self._batch:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=pause)
                except TimeoutError:
                    pass

    async def deliver_due(self) -> int:
        """Publishes the timers due now; returns how many."""
        if not await asyncio.to_thread(self._any_due):
            return 0
        claimed = await asyncio.to_thread(self._claim)
        if not claimed:
            return 0
        ids = [m.msg_id for m in claimed]
        try:
            await publish_all(self._js, claimed)
        except Exception:
            # The broker is away: give the timers back for the next attempt
            # (after the backoff) instead of holding them for the whole lease.
            await asyncio.to_thread(self._release, ids)
            raise
        await asyncio.to_thread(self._delete, ids)
        self.delivered += len(claimed)
        metrics.TIMERS_DELIVERED.inc(len(claimed))
        return len(claimed)

    def _due(self):  # noqa: ANN202 - a SQLAlchemy select
        now = utcnow()
        table = models.Timer
        return (
            select(table)
            .where(table.due_at <= now, or_(table.leased_until.is_(None), table.leased_until < now))
            .order_by(table.due_at)
        )

    def _any_due(self) -> bool:
        with self._db.read() as session:
            return session.scalars(self._due().limit(1)).first() is not None

    def _claim(self) -> list[Outgoing]:
        with self._db.write() as session:
            statement = self._due().limit(self._batch)
            if not self._db.is_sqlite:
                statement = statement.with_for_update(skip_locked=True)
            rows = session.scalars(statement).all()
            now = utcnow()
            until = now + self._lease
            for row in rows:
                row.leased_until = until
                metrics.TIMER_LAG.observe(max(0.0, (now - row.due_at).total_seconds()))
            return [Outgoing(msg_id=r.id, subject=r.subject, payload=r.payload) for r in rows]

    def _release(self, ids: list[str]) -> None:
        try:
            with self._db.write() as session:
                session.execute(
                    update(models.Timer).where(models.Timer.id.in_(ids)).values(leased_until=None)
                )
        except Exception as error:  # the database is away too: the lease expires by itself
            log.info("could not release timers; their lease expires", error=str(error))

    def _delete(self, ids: list[str]) -> None:
        with self._db.write() as session:
            session.execute(delete(models.Timer).where(models.Timer.id.in_(ids)))

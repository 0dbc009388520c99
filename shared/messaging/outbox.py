"""The outbox relay: publishes what committed transactions owe the broker.

The fast path publishes a transaction's messages right after its commit.
Published ids are deleted in bulk by the next transaction that asks for them
(`take_published`) or by the flusher within a second. The sweeper re-publishes
rows left behind by a process that died between commit and publish; JetStream
drops any duplicate by `Nats-Msg-Id` within its two-minute window.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import structlog
from nats.aio.client import Client
from nats.js import JetStreamContext
from sqlalchemy import select
from sqlalchemy.orm import Session

from levante.messaging.jetstream import Outgoing, announce_all, is_announcement, publish_all
from levante.persistence import models
from levante.persistence.db import Database

log = structlog.get_logger(__name__)


def utcnow() -> datetime:
    """Naive UTC now, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def add_to_outbox(session: Session, messages: list[Outgoing], *, now: datetime) -> None:
    """Writes messages into the outbox within the caller's transaction."""
    if messages:
        session.connection().execute(
            models.OutboxMessage.__table__.insert(),
            [
                {"id": m.msg_id, "subject": m.subject, "payload": m.payload, "created_at": now}
                for m in messages
            ],
        )


def delete_from_outbox(session: Session, ids: list[str]) -> None:
    """Removes published messages within the caller's transaction."""
    if ids:
        table = models.OutboxMessage.__table__
        session.connection().execute(table.delete().where(table.c.id.in_(ids)))


class OutboxRelay:
    """Publishes outbox messages and cleans up after them."""

    def __init__(self, database: Database, js: JetStreamContext, nc: Client | None = None) -> None:
        """`nc` (the connection behind `js`) announces state-change events;
        without it they go through `js` and wait for acks like the rest."""
        self._db = database
        self._js = js
        self._nc = nc
        self._confirming: set[asyncio.Task[None]] = set()
        self._published: list[str] = []

    async def publish(self, messages: list[Outgoing]) -> None:
        """Publishes committed messages now; on failure the sweeper retries them."""
        if not messages:
            return
        if self._nc is None:
            work, announcements = messages, []
        else:
            work = [m for m in messages if not is_announcement(m)]
            announcements = [m for m in messages if is_announcement(m)]
        try:
            await publish_all(self._js, work)
        except Exception as error:  # the rows stay; the sweeper re-publishes them
            log.warning("outbox publish failed; will retry", error=str(error), count=len(messages))
            return
        self._published.extend(m.msg_id for m in work)
        if announcements:
            try:
                announced = await announce_all(self._nc, announcements)
            except Exception as error:
                log.warning("announcing failed; will retry", error=str(error))
                announced = False
            if announced:
                # Off the caller's path: the rows go only once the broker has
                # answered a ping sent after them (it has read them).
                confirm = asyncio.create_task(self._confirm([m.msg_id for m in announcements]))
                self._confirming.add(confirm)
                confirm.add_done_callback(self._confirming.discard)

    async def _confirm(self, ids: list[str]) -> None:
        assert self._nc is not None
        try:
            await self._nc.flush(timeout=5)
        except Exception:  # unanswered: the rows stay and the sweeper re-publishes them
            return
        self._published.extend(ids)

    def take_published(self) -> list[str]:
        """Ids published since the last call, for the caller's transaction to delete."""
        ids, self._published = self._published, []
        return ids

    async def run(self, stop: asyncio.Event, *, min_age: float = 5.0) -> None:
        """Flushes deletions every second and sweeps orphaned rows every few seconds."""
        ticks = 0
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=1.0)
            except TimeoutError:
                pass
            try:
                await self.flush()
                ticks += 1
                if ticks % 3 == 0:
                    await self.sweep(min_age=min_age)
            except Exception as error:
                log.warning("outbox maintenance failed", error=str(error))
        await self.flush()

    async def flush(self) -> None:
        """Deletes the rows of published messages."""
        ids = self.take_published()
        if ids:
            await asyncio.to_thread(self._delete, ids)

    async def sweep(self, *, min_age: float) -> int:
        """Re-publishes rows older than `min_age` seconds; returns how many."""
        messages = await asyncio.to_thread(self._orphans, min_age)
        if messages:
            log.info("re-publishing orphaned outbox messages", count=len(messages))
            await self.publish(messages)
            await self.flush()
        return len(messages)

    def _delete(self, ids: list[str]) -> None:
        with self._db.write() as session:
            delete_from_outbox(session, ids)

    def _orphans(self, min_age: float) -> list[Outgoing]:
        cutoff = utcnow() - timedelta(seconds=min_age)
        with self._db.read() as session:
            rows = session.scalars(
                select(models.OutboxMessage)
                .where(models.OutboxMessage.created_at < cutoff)
                .order_by(models.OutboxMessage.created_at)
                .limit(500)
            ).all()
            return [Outgoing(msg_id=r.id, subject=r.subject, payload=r.payload) for r in rows]

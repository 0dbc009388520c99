"""JetStream streams, subjects, publishing and a credit-based pull consumer.

Streams (file storage, de-duplication window two minutes):

- LEVANTE_WORK, subjects `levante.work.<target>.<action_execution_id>`,
  work-queue retention: one RunAction per message, for the executors of that
  target (`default` when a task names none).
- LEVANTE_ENGINE_EVENTS, subject `levante.engine.events`, work-queue
  retention: one EngineEvent per message, for the engines.
- LEVANTE_EXECUTION_EVENTS, subjects
  `levante.events.<root_execution_id>.<execution_id>.<entity>`, kept for
  seven days: one `levante.v2.ExecutionEvent` per state change, for watchers
  and integrators.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import nats
import nats.errors
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)
from nats.js.errors import APIError, NotFoundError

from levante.backoff import Backoff

log = structlog.get_logger(__name__)

WORK_STREAM = "LEVANTE_WORK"
EVENTS_STREAM = "LEVANTE_ENGINE_EVENTS"
ENGINE_EVENTS_SUBJECT = "levante.engine.events"
ENGINE_CONSUMER = "engine"
EXECUTION_EVENTS_STREAM = "LEVANTE_EXECUTION_EVENTS"
EXECUTION_EVENTS_PREFIX = "levante.events."
EXECUTION_EVENTS_MAX_AGE_SECONDS = 7 * 24 * 3600.0
DEFAULT_TARGET = "default"
DUPLICATE_WINDOW_SECONDS = 120.0


def work_subject(target: str | None, action_id: str) -> str:
    """The subject of one action's RunAction message for `target`.

    One subject per action lets the scheduler's recovery ask the stream
    whether an action's work still exists (pending or being run).
    """
    return f"levante.work.{target or DEFAULT_TARGET}.{action_id}"


def work_filter(target: str | None) -> str:
    """The subjects the executors of `target` consume."""
    return f"levante.work.{target or DEFAULT_TARGET}.>"


def executor_consumer(target: str | None) -> str:
    """The durable consumer shared by every executor of `target`."""
    return f"executor-{target or DEFAULT_TARGET}"


def execution_event_subject(root_execution_id: str, execution_id: str, entity: str) -> str:
    """The subject of a state change of `entity` (workflow, task, action) in a tree."""
    return f"levante.events.{root_execution_id}.{execution_id}.{entity}"


def execution_events_filter(root_execution_id: str) -> str:
    """The subjects of every state change in the tree of `root_execution_id`."""
    return f"levante.events.{root_execution_id}.>"


async def connect(url: str, *, name: str) -> Client:
    """Connects to NATS, reconnecting forever: a broker outage must not kill a service.

    `url` may list several servers of a cluster, comma-separated
    (`nats://a:4222,nats://b:4222`): the client connects to one that answers
    and moves to another when it goes away.
    """
    servers = [part.strip() for part in url.split(",") if part.strip()]
    return await nats.connect(
        servers if len(servers) > 1 else url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=0.5,
        connect_timeout=5,
    )


async def ensure_streams(js: JetStreamContext, *, replicas: int = 1) -> None:
    """Creates Levante's streams, or updates them to this configuration.

    `replicas` is how many servers of a NATS cluster keep each stream
    (LEVANTE_NATS_STREAM_REPLICAS): 3 survives the loss of one server.
    """
    for config in (
        StreamConfig(
            name=WORK_STREAM,
            subjects=["levante.work.>"],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=EVENTS_STREAM,
            subjects=[ENGINE_EVENTS_SUBJECT],
            retention=RetentionPolicy.WORK_QUEUE,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        ),
        StreamConfig(
            name=EXECUTION_EVENTS_STREAM,
            subjects=["levante.events.>"],
            retention=RetentionPolicy.LIMITS,
            max_age=EXECUTION_EVENTS_MAX_AGE_SECONDS,
            storage=StorageType.FILE,
            duplicate_window=DUPLICATE_WINDOW_SECONDS,
            num_replicas=replicas,
        ),
    ):
        await _ensure_stream(js, config)


async def _ensure_stream(js: JetStreamContext, config: StreamConfig, *, attempts: int = 6) -> None:
    # Processes starting together race to create a stream, and a cluster
    # busy placing replicas can time out: try again, a few times, before
    # failing the start.
    backoff = Backoff(base=0.25, maximum=4.0)
    while True:
        try:
            try:
                await js.stream_info(config.name)
                await js.update_stream(config)
            except NotFoundError:
                await js.add_stream(config)
            return
        except (APIError, nats.errors.TimeoutError) as error:
            if isinstance(error, NotFoundError) or backoff.failures + 1 >= attempts:
                raise
            pause = backoff.failed()
            log.info("stream not ready yet; retrying", stream=config.name, error=str(error))
            await asyncio.sleep(pause)


async def ensure_consumer(
    js: JetStreamContext, *, stream: str, durable: str, subject: str, ack_wait: float
) -> None:
    """Creates a durable pull consumer with explicit acks, if it does not exist."""
    try:
        await js.consumer_info(stream, durable)
    except NotFoundError:
        await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name=durable,
                filter_subject=subject,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=ack_wait,
                max_deliver=-1,
                max_ack_pending=10_000,
            ),
        )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish with JetStream de-duplication."""

    msg_id: str
    subject: str
    payload: bytes
    #: W3C trace context sent as the `traceparent` header; not kept in the
    #: outbox (messages that need it after a re-publish carry it in the payload).
    traceparent: str = ""


async def publish_all(
    js: JetStreamContext, messages: Sequence[Outgoing], *, timeout: float = 5.0
) -> None:
    """Publishes messages concurrently and returns once the broker acked all of them.

    Raises if any publish was not acked; the caller keeps them and retries
    (the broker drops re-published duplicates by `Nats-Msg-Id`).
    """
    await asyncio.gather(
        *(js.publish(m.subject, m.payload, timeout=timeout, headers=_headers(m)) for m in messages)
    )


async def announce_all(nc: Client, messages: Sequence[Outgoing]) -> bool:
    """Publishes state-change events into their stream without waiting for acks.

    Announcements are many (several per step) and only observed, so they
    skip the per-message acknowledgement that work and engine events wait
    for; the stream still stores them and drops duplicates by
    `Nats-Msg-Id`. Returns False, publishing nothing, while disconnected:
    the caller keeps them and retries.
    """
    if not nc.is_connected:
        return False
    for message in messages:
        await nc.publish(message.subject, message.payload, headers=_headers(message))
    return True


def is_announcement(message: Outgoing) -> bool:
    """Whether `message` is a state-change event (see `announce_all`)."""
    return message.subject.startswith(EXECUTION_EVENTS_PREFIX)


def _headers(message: Outgoing) -> dict[str, str]:
    if message.traceparent:
        return {"Nats-Msg-Id": message.msg_id, "traceparent": message.traceparent}
    return {"Nats-Msg-Id": message.msg_id}


class PullConsumer:
    """Pulls from a durable consumer with flow control by credit.

    At most `credit` messages are requested-or-held at once; `done(n)` returns
    credit after the caller settled messages. Pull requests expire after
    `expires` seconds and are renewed, so a broker restart cannot strand us.
    """

    def __init__(
        self, nc: Client, *, stream: str, durable: str, credit: int, expires: float = 5.0
    ) -> None:
        self._nc = nc
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._credit = credit
        self._expires = expires
        self._requested = 0
        self._held = 0
        self._last_request = 0.0
        self._queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._inbox = nc.new_inbox()
        self._subscription = None
        self._closed = False

    async def start(self) -> None:
        """Subscribes to the delivery inbox and sends the first pull request."""
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)
        await self._request()

    async def stop(self) -> None:
        """Stops receiving; messages not settled are redelivered after ack_wait."""
        self._closed = True
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except Exception:  # the connection is already gone: nothing to undo
                pass
            self._subscription = None

    async def drain(self) -> int:
        """Stops asking for messages and gives back all it holds; returns how many.

        Messages received and not handed out yet, and those the last pull
        request still delivers (it is waited for, at most `expires` plus a
        second), are nak'ed: the broker redelivers them at once to another
        consumer instead of after ack_wait. Then it unsubscribes.
        """
        self._closed = True
        # Nak'ed while our own pull request is open, a message would come
        # straight back to us: first let the request end.
        deadline = time.monotonic() + self._expires + 1.0
        while self._requested > 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await self.stop()
        released = 0
        while not self._queue.empty():
            await _release(self._queue.get_nowait())
            released += 1
        return released

    async def next_batch(self, *, max_messages: int, timeout: float) -> list[Msg]:
        """Waits up to `timeout` for a message, then takes whatever else is ready."""
        await self._renew_if_stale()
        try:
            first = await asyncio.wait_for(self._queue.get(), timeout)
        except TimeoutError:
            return []
        batch = [first]
        while len(batch) < max_messages and not self._queue.empty():
            batch.append(self._queue.get_nowait())
        return batch

    async def done(self, count: int = 1) -> None:
        """Returns credit for `count` settled messages and asks for more."""
        self._held = max(0, self._held - count)
        await self._request()

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self._requested = max(0, self._requested - 1)
            self._held += 1
            await self._queue.put(msg)
            return
        if status in ("404", "408", "409"):
            # The pull request expired or was cut short: what it did not
            # deliver is no longer requested.
            pending = msg.headers.get("Nats-Pending-Messages") if msg.headers else None
            self._requested = max(0, self._requested - int(pending)) if pending else 0
            await self._request()

    async def _request(self) -> None:
        if self._closed:
            return
        free = self._credit - self._requested - self._held
        if free <= 0 or (self._requested > 0 and free < max(1, self._credit // 2)):
            return
        if not self._nc.is_connected:
            return
        self._requested += free
        self._last_request = time.monotonic()
        request = f'{{"batch": {free}, "expires": {int(self._expires * 1e9)}}}'.encode()
        try:
            await self._nc.publish(self._next_subject, request, reply=self._inbox)
        except Exception:  # reconnecting: _renew_if_stale asks again later
            self._requested -= free

    async def _renew_if_stale(self) -> None:
        if self._requested and time.monotonic() - self._last_request > self._expires + 2:
            self._requested = 0
        await self._request()


async def _release(msg: Msg) -> None:
    try:
        await msg.nak()
    except Exception:  # disconnected: the broker redelivers it after ack_wait anyway
        pass

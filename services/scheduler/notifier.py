"""Delivers Mistral-style notifications (`notify` params) from the execution event stream.

The notifier reads LEVANTE_EXECUTION_EVENTS with the durable pull consumer
`notifier` (workflow and task events only; schedulers share it, each event
goes to one), turns each state change into Mistral's event name
(`levante.notifications`), finds the `notify` targets of the execution (its
own params, else its nearest ancestor's; cached), and sends the payload:
webhooks are POSTed as JSON (retried with backoff on a connection error or a
5xx/429 answer), NATS targets get a plain publish on their subject.

Each target gets the events of one execution tree in order; trees and
targets proceed in parallel, so a dead webhook delays only itself (and once
a delivery to it failed, it gets one attempt per event until one succeeds).
An event is acknowledged once every delivery succeeded or gave up: a failing
target costs a log line and a metric (`levante_notifications_total` with
outcome `failed`), never the workflow anything. Webhooks obey the same SSRF
guard as std.http (LEVANTE_HTTP_ALLOWED_HOSTS).
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from prometheus_client import Counter
from yarl import URL

from levante import notifications
from levante.actions.std.netguard import GuardedResolver, NetworkPolicy, describe
from levante.errors import InputError
from levante.messaging.jetstream import EXECUTION_EVENTS_STREAM, PullConsumer
from levante.persistence import models
from levante.persistence.db import Database
from levante.v2 import event_pb2

log = structlog.get_logger(__name__)

CONSUMER = "notifier"
# Workflow and task changes only: Mistral announces no action executions.
SUBJECTS = ("levante.events.*.*.workflow", "levante.events.*.*.task")

NOTIFICATIONS = Counter(
    "levante_notifications",
    "Notifications sent to notify targets, by target type and outcome (sent, failed).",
    ["target", "outcome"],
)
RETRIES = Counter("levante_notification_retries", "Webhook deliveries tried again.")


@dataclass(frozen=True, slots=True)
class Delivery:
    """How hard to try a webhook: attempts, the first backoff (doubling), a timeout each."""

    attempts: int = 5
    backoff_seconds: float = 0.5
    timeout_seconds: float = 10.0


@dataclass(frozen=True, slots=True)
class _Config:
    """An execution's notify targets (inherited ones included) and what payloads tell."""

    targets: tuple[notifications.Target, ...]
    info: notifications.ExecutionInfo


class _Lanes:
    """Ordered queues by key, each drained by its own task while it has work."""

    def __init__(self, handle: Callable[[Any], Awaitable[None]], name: str) -> None:
        self._handle = handle
        self._name = name
        self._queues: dict[Hashable, asyncio.Queue[Any]] = {}
        self.workers: set[asyncio.Task[None]] = set()

    def put(self, key: Hashable, item: Any) -> None:
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = asyncio.Queue()
            worker = asyncio.create_task(self._drain(key, queue), name=self._name)
            self.workers.add(worker)
            worker.add_done_callback(self.workers.discard)
        queue.put_nowait(item)

    async def _drain(self, key: Hashable, queue: asyncio.Queue[Any]) -> None:
        while not queue.empty():
            item = queue.get_nowait()
            try:
                await self._handle(item)
            except Exception:
                log.exception("notifier step failed")
        # No await between the empty check and this: nothing can slip in.
        del self._queues[key]


@dataclass(slots=True)
class _Pending:
    """An event being delivered: acknowledged once no delivery of it is left."""

    message: Msg
    left: int


@dataclass(frozen=True, slots=True)
class _Send:
    target: notifications.Target
    event: str
    data: bytes
    pending: _Pending


class Notifier:
    """Consumes execution events and notifies the targets of their executions.

    Events go through one lane per execution tree (decoded, their targets
    looked up, in order), then through one lane per tree and target (sent in
    order): a slow or dead target delays only its own notifications.
    """

    def __init__(
        self,
        database: Database,
        nc: Client,
        js: JetStreamContext,
        *,
        network: NetworkPolicy,
        delivery: Delivery = Delivery(),
        cache_size: int = 10_000,
    ) -> None:
        self._database = database
        self._nc = nc
        self._js = js
        self._network = network
        self._delivery = delivery
        self._cache: OrderedDict[str, _Config | None] = OrderedDict()
        self._cache_size = cache_size
        self._trees = _Lanes(self._route, "notifier-tree")
        self._targets = _Lanes(self._send, "notifier-target")
        # Targets whose last delivery failed: tried once, not retried, until one succeeds.
        self._failing: set[notifications.Target] = set()
        self._consumer: PullConsumer | None = None
        self._session: aiohttp.ClientSession | None = None
        self.sent = 0
        self.failed = 0

    async def prepare(self) -> bool:
        """Creates the durable consumer if needed; False if the broker did not answer.

        Called before the api takes requests: the consumer starts at new
        events, so the first executions must not come before it exists.
        """
        ack_wait = self._delivery.attempts * (self._delivery.timeout_seconds + 1) + 60
        try:
            await _ensure_consumer(self._js, ack_wait=ack_wait)
        except Exception as error:  # the broker is away: notifications wait, nothing else
            log.warning("notifier consumer not ready", error=str(error))
            return False
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Notifies until `stop` is set, then finishes what it holds (briefly)."""
        while not await self.prepare():
            try:
                await asyncio.wait_for(stop.wait(), timeout=2)
                return
            except TimeoutError:
                continue
        self._consumer = PullConsumer(
            self._nc, stream=EXECUTION_EVENTS_STREAM, durable=CONSUMER, credit=512
        )
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._network))
        self._session = aiohttp.ClientSession(connector=connector)
        await self._consumer.start()
        try:
            while not stop.is_set():
                for message in await self._consumer.next_batch(max_messages=256, timeout=0.5):
                    # levante.events.<root>.<execution>.<entity>
                    self._trees.put(message.subject.split(".")[2], message)
        finally:
            await self._consumer.stop()
            workers = self._trees.workers | self._targets.workers
            if workers:
                # What is left is redelivered (to any scheduler) after ack_wait.
                _, unfinished = await asyncio.wait(workers, timeout=5)
                for worker in unfinished:
                    worker.cancel()
            await self._session.close()

    async def _route(self, message: Msg) -> None:
        pending = _Pending(message, 0)
        try:
            sends = await self._sends(message, pending)
        except Exception:
            log.exception("notification not handled", subject=message.subject)
            sends = []
        if not sends:
            await self._settle(message)
            return
        pending.left = len(sends)
        root = message.subject.split(".")[2]
        for send in sends:
            self._targets.put((root, send.target), send)

    async def _settle(self, message: Msg) -> None:
        try:
            await message.ack()
        except Exception as error:  # redelivered later; handled again then
            log.warning("notification ack failed", error=str(error))
        if self._consumer is not None:
            await self._consumer.done(1)

    async def _sends(self, message: Msg, pending: _Pending) -> list[_Send]:
        event = event_pb2.ExecutionEvent.FromString(message.data)
        is_workflow = event.entity == event_pb2.EVENT_ENTITY_WORKFLOW_EXECUTION
        if is_workflow:
            name = notifications.workflow_event(event.old_state, event.new_state)
        elif event.entity == event_pb2.EVENT_ENTITY_TASK_EXECUTION:
            name = notifications.task_event(event.old_state, event.new_state)
        else:
            return []
        if name is None:
            return []
        config = await self._config(event.execution_id)
        targets = [t for t in config.targets if t.wants(name)] if config is not None else []
        if config is None or not targets:
            return []
        body = notifications.payload(
            name,
            entity_id=event.entity_id,
            name=event.name,
            old_state=event.old_state,
            new_state=event.new_state,
            state_info=event.state_info,
            timestamp=event.timestamp.ToDatetime(),
            execution=config.info,
            parent_execution_id=event.parent_execution_id,
            is_workflow=is_workflow,
        )
        data = json.dumps(body, default=str).encode()
        return [_Send(t, name, data, pending) for t in targets]

    async def _send(self, send: _Send) -> None:
        target = send.target
        try:
            if target.type == "webhook":
                await self._post(send)
            elif target.type == "nats":
                await self._nc.publish(
                    target.subject, send.data, headers={"Levante-Event": send.event}
                )
        except Exception as error:
            self.failed += 1
            self._failing.add(target)
            NOTIFICATIONS.labels(target.type, "failed").inc()
            log.warning(
                "notification not delivered",
                target=target.type,
                to=target.url or target.subject,
                notification=send.event,
                error=describe(error) or str(error) or type(error).__name__,
            )
        else:
            self._failing.discard(target)
            if target.type != "noop":
                self.sent += 1
                NOTIFICATIONS.labels(target.type, "sent").inc()
        finally:
            # Whatever happened, this delivery is over: the event is settled after its last.
            send.pending.left -= 1
            if send.pending.left == 0:
                await self._settle(send.pending.message)

    async def _post(self, send: _Send) -> None:
        """POSTs with retries (one attempt while the target is failing); raises if it failed."""
        assert self._session is not None
        target = send.target
        headers = {"Content-Type": "application/json", "Levante-Event": send.event}
        headers.update(dict(target.headers))
        attempts = 1 if target in self._failing else self._delivery.attempts
        delay = self._delivery.backoff_seconds
        for attempt in range(1, attempts + 1):
            try:
                self._network.check_url_host(URL(target.url).host)
                async with self._session.post(
                    target.url,
                    data=send.data,
                    headers=headers,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self._delivery.timeout_seconds),
                ) as response:
                    if response.status < 400:
                        return
                    problem = f"HTTP {response.status}"
                    # A client error other than 408/429 will not get better by trying again.
                    if response.status < 500 and response.status not in (408, 429):
                        raise RuntimeError(f"{problem} from {target.url}")
            except (aiohttp.ClientError, TimeoutError) as error:
                if describe(error):
                    raise  # refused by the SSRF guard: no point retrying
                problem = str(error) or type(error).__name__
            if attempt == attempts:
                raise RuntimeError(f"{problem} after {attempt} attempt(s)")
            RETRIES.inc()
            log.info("webhook retried", url=target.url, attempt=attempt, problem=problem)
            try:
                await send.pending.message.in_progress()  # keep the event ours meanwhile
            except Exception:
                pass
            await asyncio.sleep(delay)
            delay *= 2

    async def _config(self, execution_id: str) -> _Config | None:
        if execution_id in self._cache:
            self._cache.move_to_end(execution_id)
            return self._cache[execution_id]
        found = await asyncio.to_thread(_read, self._database, execution_id)
        config = None
        if found is not None:
            info, notify, parent_id = found
            if notify is not _INHERIT:
                try:
                    targets = notifications.parse_targets(notify)
                except InputError as error:  # stored before validation existed
                    log.warning(
                        "ignoring invalid notify", execution_id=execution_id, error=str(error)
                    )
                    targets = ()
                config = _Config(targets, info) if targets else None
            elif parent_id:
                parent = await self._config(parent_id)
                config = _Config(parent.targets, info) if parent is not None else None
        self._cache[execution_id] = config
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return config


_INHERIT = object()


def _read(
    database: Database, execution_id: str
) -> tuple[notifications.ExecutionInfo, Any, str] | None:
    """(payload info, the params' notify or _INHERIT, the parent execution id) of an execution."""
    with database.read() as session:
        row = session.get(models.WorkflowExecution, execution_id)
        if row is None:
            return None
        parent_id = ""
        if row.task_execution_id:
            task = session.get(models.TaskExecution, row.task_execution_id)
            parent_id = task.workflow_execution_id if task is not None else ""
        info = notifications.ExecutionInfo(
            id=row.id,
            workflow_id=row.workflow_id,
            workflow_name=row.workflow_name,
            workflow_namespace=row.workflow_namespace,
            root_execution_id=row.root_execution_id or row.id,
            task_execution_id=row.task_execution_id or "",
            project_id=row.project_id,
            created_at=row.created_at,
        )
        params = row.params or {}
        return info, params["notify"] if "notify" in params else _INHERIT, parent_id


async def _ensure_consumer(js: JetStreamContext, *, ack_wait: float) -> None:
    """Creates the durable consumer; it starts at new events, not the stream's week of history."""
    try:
        await js.consumer_info(EXECUTION_EVENTS_STREAM, CONSUMER)
    except NotFoundError:
        await js.add_consumer(
            EXECUTION_EVENTS_STREAM,
            ConsumerConfig(
                durable_name=CONSUMER,
                filter_subjects=list(SUBJECTS),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.NEW,
                ack_wait=ack_wait,
                max_deliver=-1,
                max_ack_pending=10_000,
            ),
        )

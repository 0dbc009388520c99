"""The executor: pulls RunAction work, runs it, reports the result.

Delivery is at-least-once: the work message is acked only after the
ActionResult event has been published and the broker acked it. While an
action runs the executor tells the broker it is in progress, so slow actions
are not redelivered. A redelivered action that is not `safe-rerun` is not run
again: it fails with a state_info saying why.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from typing import Any

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from levante.executor.actions import ActionError, run_action
from levante.internal.v1 import messages_pb2
from levante.messaging.jetstream import ENGINE_EVENTS_SUBJECT, Outgoing, PullConsumer, publish_all

log = structlog.get_logger(__name__)

ACK_WAIT_SECONDS = 30.0


class Executor:
    """Runs actions for one executor target, up to `concurrency` at a time."""

    def __init__(self, js: JetStreamContext, *, concurrency: int = 64) -> None:
        self._js = js
        self._concurrency = concurrency
        self._running: set[asyncio.Task[None]] = set()
        self._name = f"{socket.gethostname()}:{os.getpid()}"

    async def run(self, consumer: PullConsumer, stop: asyncio.Event) -> None:
        """Takes work until `stop` is set, then waits for the actions in flight."""
        while not stop.is_set():
            free = self._concurrency - len(self._running)
            if free <= 0:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
                continue
            for msg in await consumer.next_batch(max_messages=free, timeout=0.5):
                task = asyncio.create_task(self._execute(msg, consumer))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
        if self._running:
            log.info("draining: waiting for actions in flight", count=len(self._running))
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _execute(self, msg: Msg, consumer: PullConsumer) -> None:
        try:
            work = messages_pb2.RunAction()
            work.ParseFromString(msg.data)
        except Exception:
            log.error("dropping undecodable work", subject=msg.subject)
            await msg.term()
            await consumer.done()
            return
        try:
            result = await self._outcome(msg, work)
            await self._report(work, result)
            await msg.ack()
        except Exception:
            # Not acked: the broker redelivers after ack_wait.
            log.exception("could not report an action result", action=work.action_execution_id)
        finally:
            await consumer.done()

    async def _outcome(self, msg: Msg, work: messages_pb2.RunAction) -> messages_pb2.ActionResult:
        result = messages_pb2.ActionResult(
            action_execution_id=work.action_execution_id,
            task_execution_id=work.task_execution_id,
            executor=self._name,
        )
        if msg.metadata.num_delivered > 1 and not work.safe_rerun:
            result.failure.message = (
                f"Action {work.action_name} [action_ex_id={work.action_execution_id}] was "
                "interrupted (its executor stopped) and is not safe to rerun (safe-rerun: false)"
            )
            return result
        keepalive = asyncio.create_task(_keep_in_progress(msg))
        try:
            value = await run_action(work.action_name, _decode(work.input_json))
            result.result_json = json.dumps(value).encode()
        except ActionError as error:
            result.failure.message = error.message
            if error.data is not None:
                result.failure.data_json = json.dumps(error.data).encode()
        except Exception as error:  # never let one action kill the executor
            result.failure.message = f"{type(error).__name__}: {error}"
        finally:
            keepalive.cancel()
        return result

    async def _report(
        self, work: messages_pb2.RunAction, result: messages_pb2.ActionResult
    ) -> None:
        stamp = Timestamp()
        stamp.GetCurrentTime()
        event = messages_pb2.EngineEvent(
            event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"result:{work.action_execution_id}")),
            event_time=stamp,
            execution_id=work.execution_id,
            root_execution_id=work.root_execution_id,
            action_result=result,
        )
        await publish_all(
            self._js,
            [Outgoing(event.event_id, ENGINE_EVENTS_SUBJECT, event.SerializeToString())],
        )


async def _keep_in_progress(msg: Msg) -> None:
    while True:
        await asyncio.sleep(ACK_WAIT_SECONDS / 3)
        await msg.in_progress()


def _decode(data: bytes) -> dict[str, Any]:
    value = json.loads(data) if data else {}
    return value if isinstance(value, dict) else {}

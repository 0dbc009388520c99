"""The executor: takes RunAction work, runs it through the action catalogue, reports the result.

Delivery is at-least-once: the work message is acked only after the
ActionResult event has been published and the broker acked it (publishing
is retried, with backoff, until it is). While an
action runs the executor tells the broker it is in progress, so slow actions
are not redelivered. A redelivered action that is not `safe-rerun` is not run
again: it fails with a state_info saying why.

Stopping is a graceful drain: no new work is asked for, work already
delivered is run, results are published and acked; actions still running
when the grace period ends are left unacked (the broker redelivers them and
the safe-rerun rule decides).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
import uuid
from typing import Any

import structlog
from google.protobuf.timestamp_pb2 import Timestamp
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from levante import metrics, tracing
from levante.actions import (
    ActionCatalogue,
    ActionContext,
    ExecutionContext,
    Failure,
    Outcome,
    Pending,
    SecurityContext,
    Success,
    mask,
)
from levante.backoff import Backoff
from levante.executor.intake import WorkIntake
from levante.internal.v1 import messages_pb2
from levante.messaging.jetstream import ENGINE_EVENTS_SUBJECT, Outgoing, publish_all
from levante.recovery_rules import interrupted_message
from levante.security import secrets

log = structlog.get_logger(__name__)

ACK_WAIT_SECONDS = 30.0
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8989/v2"
#: Longest pause between two attempts to publish a result.
_MAX_BACKOFF_SECONDS = 5.0


class Executor:
    """Runs actions for one executor target, up to `concurrency` at a time.

    Args:
        js: JetStream context results are published with.
        catalogue: The actions it can run; the caller closes it. Default: the
            standard actions (closed when `run` returns).
        concurrency: Actions running at once (pull credit).
        grace_seconds: How long a stop waits for running actions.
        public_url: Base of the callback URL handed to asynchronous actions.
        heartbeat_seconds: How often a running action's message is marked
            in progress (must be well under the consumer's ack_wait).
    """

    def __init__(
        self,
        js: JetStreamContext,
        catalogue: ActionCatalogue | None = None,
        *,
        concurrency: int = 64,
        grace_seconds: float = 60.0,
        public_url: str = DEFAULT_PUBLIC_URL,
        heartbeat_seconds: float = ACK_WAIT_SECONDS / 3,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._js = js
        self._owns_catalogue = catalogue is None
        self._catalogue = catalogue or ActionCatalogue.standard()
        self._concurrency = concurrency
        self._refill_at = max(1, concurrency // 4)
        self._grace_seconds = grace_seconds
        self._public_url = public_url.rstrip("/")
        self._heartbeat_seconds = heartbeat_seconds
        self._running: set[asyncio.Task[None]] = set()
        self._name = f"{socket.gethostname()}:{os.getpid()}"

    async def run(self, intake: WorkIntake, stop: asyncio.Event) -> None:
        """Takes work until `stop` is set, then drains (see the module docstring)."""
        try:
            await self._take_work(intake, stop)
        finally:
            await self._drain(intake)
            if self._owns_catalogue:
                self._catalogue.close()

    async def _take_work(self, intake: WorkIntake, stop: asyncio.Event) -> None:
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                free = self._concurrency - len(self._running)
                if self._running and free < self._refill_at:
                    # Ask for work in batches, not one message per finished action.
                    await asyncio.wait(
                        {*self._running, stopping}, return_when=asyncio.FIRST_COMPLETED
                    )
                    continue
                for msg in await intake.next_batch(max_messages=free, timeout=0.5):
                    self._start(msg)
        finally:
            stopping.cancel()

    async def _drain(self, intake: WorkIntake) -> None:
        intake.close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._grace_seconds
        # The last pull request may still deliver: those messages were asked
        # for, so they run (within the concurrency the request was sized to).
        while not intake.settled and loop.time() < deadline:
            for msg in await intake.next_batch(max_messages=self._concurrency, timeout=0.2):
                self._start(msg)
        if not self._running:
            return
        log.info("draining: waiting for actions in flight", count=len(self._running))
        _, late = await asyncio.wait(self._running, timeout=max(0.0, deadline - loop.time()))
        if late:
            log.warning(
                "grace period over: leaving actions unacked for redelivery", count=len(late)
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    def _start(self, msg: Msg) -> None:
        task = asyncio.create_task(self._execute(msg))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _execute(self, msg: Msg) -> None:
        try:
            work = messages_pb2.RunAction()
            work.ParseFromString(msg.data)
        except Exception:
            log.error("dropping undecodable work", subject=msg.subject)
            await msg.term()
            return
        metrics.record_delivery("executor", msg)
        if work.HasField("request_time") and msg.metadata.num_delivered == 1:
            waited = time.time() - work.request_time.ToMicroseconds() / 1e6
            metrics.ACTION_QUEUE_TIME.observe(max(0.0, waited))
        heartbeat = asyncio.create_task(self._heartbeat(msg))
        try:
            with (
                tracing.span(
                    f"executor run {work.action_name}",
                    parent=work.traceparent or msg.headers,
                    kind="consumer",
                    attributes={
                        "levante.action_execution_id": work.action_execution_id,
                        "levante.execution_id": work.execution_id,
                        "levante.task": work.task_name,
                    },
                ),
                structlog.contextvars.bound_contextvars(
                    root_execution_id=work.root_execution_id,
                    execution_id=work.execution_id,
                    action_execution_id=work.action_execution_id,
                ),
            ):
                result = await self._outcome(msg, work)
                await self._report(work, result)
            await msg.ack()
        except asyncio.CancelledError:
            raise  # grace period over: not acked, the broker redelivers
        except Exception:
            # Not acked: the broker redelivers after ack_wait.
            log.exception("could not report an action result", action=work.action_execution_id)
        finally:
            heartbeat.cancel()

    async def _outcome(self, msg: Msg, work: messages_pb2.RunAction) -> messages_pb2.ActionResult:
        result = messages_pb2.ActionResult(
            action_execution_id=work.action_execution_id,
            task_execution_id=work.task_execution_id,
            executor=self._name,
        )
        if msg.metadata.num_delivered > 1 and not work.safe_rerun:
            result.failure.message = interrupted_message(work.action_name, work.action_execution_id)
            return result
        started = time.monotonic()
        opened: set[str] = set()
        try:
            action_input = _json_object(work.input_json, what="action input")
            # Values showing a secret come sealed; this process's logs mask them from now on.
            action_input = secrets.open_value(action_input, found=opened)
            secrets.remember(opened)
        except ValueError as error:
            action_input, outcome = None, Failure(str(error))
        except secrets.SecretError as error:
            action_input, outcome = None, Failure(error.message)
        if action_input is not None:
            try:
                outcome = await self._run(work, action_input)
            except Exception as error:  # never let one action kill the executor
                log.exception("action run failed", action=work.action_name)
                outcome = Failure(f"{type(error).__name__}: {error}")
        _fill(result, outcome, work.action_name)
        if opened:
            _seal_result(result, frozenset(opened))
        kind = result.WhichOneof("outcome") or "unknown"
        metrics.ACTIONS_RUN.labels(outcome=kind).inc()
        metrics.ACTION_DURATION.labels(action=work.action_name, outcome=kind).observe(
            time.monotonic() - started
        )
        log.debug(
            "action finished",
            action=work.action_name,
            action_execution_id=work.action_execution_id,
            outcome=result.WhichOneof("outcome"),
            seconds=round(time.monotonic() - started, 4),
        )
        return result

    async def _run(self, work: messages_pb2.RunAction, action_input: dict[str, Any]) -> Outcome:
        entry = self._catalogue.get(work.action_name)
        # Unknown actions have no declared secrets: log none of their values.
        hidden = entry.secret_parameters if entry else frozenset(action_input)
        log.debug(
            "running action",
            action=work.action_name,
            action_execution_id=work.action_execution_id,
            input=mask(action_input, hidden),
        )
        outcome = await self._catalogue.run(work.action_name, action_input, self._context(work))
        if isinstance(outcome, Failure):
            log.info(
                "action failed",
                action=work.action_name,
                action_execution_id=work.action_execution_id,
                message=outcome.message,
            )
        return outcome

    def _context(self, work: messages_pb2.RunAction) -> ActionContext:
        try:
            custom = _json_object(work.custom_context_json, what="custom_context")
        except ValueError:
            log.warning("ignoring a custom_context that is not a JSON object")
            custom = {}
        return ActionContext(
            security=SecurityContext(project_id=work.project_id or None),
            execution=ExecutionContext(
                workflow_name=work.workflow_name,
                workflow_namespace=work.workflow_namespace,
                workflow_execution_id=work.execution_id,
                task_name=work.task_name,
                task_execution_id=work.task_execution_id,
                action_execution_id=work.action_execution_id,
                callback_url=f"{self._public_url}/action_executions/{work.action_execution_id}",
            ),
            custom_context=custom,
        )

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
        outgoing = [
            Outgoing(
                event.event_id,
                ENGINE_EVENTS_SUBJECT,
                event.SerializeToString(),
                traceparent=tracing.traceparent(),  # the engine's span continues this one
            )
        ]
        # Until the broker has it: given up on, the result would be lost, and
        # the redelivered work of an action that is not safe-rerun would fail
        # as interrupted though it ran to the end. The heartbeat keeps the
        # work ours meanwhile; a stop's grace period bounds the wait.
        backoff = Backoff(base=0.1, maximum=_MAX_BACKOFF_SECONDS)
        while True:
            try:
                await publish_all(self._js, outgoing)
                return
            except Exception as error:  # the broker drops a re-publish by Nats-Msg-Id
                pause = backoff.failed()
                if backoff.worth_logging:
                    log.warning(
                        "cannot publish an action result yet; retrying",
                        action=work.action_execution_id,
                        failures=backoff.failures,
                        error=str(error) or type(error).__name__,
                    )
                await asyncio.sleep(pause)

    async def _heartbeat(self, msg: Msg) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_seconds)
            try:
                await msg.in_progress()
            except Exception:  # reconnecting: try again at the next beat
                log.debug("could not mark work in progress", subject=msg.subject)


def _fill(result: messages_pb2.ActionResult, outcome: Outcome, action: str) -> None:
    if isinstance(outcome, Pending):
        result.pending.SetInParent()
    elif isinstance(outcome, Success):
        try:
            result.result_json = json.dumps(outcome.value).encode()
        except (TypeError, ValueError) as error:
            result.failure.message = (
                f"The action result is not JSON serializable [action={action}, error={error}]"
            )
    else:
        result.failure.message = outcome.message
        if outcome.data is not None:
            result.failure.data_json = json.dumps(outcome.data, default=str).encode()


def _seal_result(result: messages_pb2.ActionResult, opened: frozenset[str]) -> None:
    """Seals what shows a secret of the input in a result on its way to the engine."""
    if result.result_json:
        value = json.loads(result.result_json)
        result.result_json = json.dumps(secrets.seal_value(value, opened)).encode()
    if result.failure.message:
        result.failure.message = secrets.scrub(result.failure.message, opened)
    if result.failure.data_json:
        data = json.loads(result.failure.data_json)
        result.failure.data_json = json.dumps(secrets.seal_value(data, opened)).encode()


def _json_object(data: bytes, *, what: str) -> dict[str, Any]:
    if not data:
        return {}
    try:
        value = json.loads(data)
    except ValueError as error:
        raise ValueError(f"{what} is not valid JSON: {error}") from error
    if not isinstance(value, dict):
        raise ValueError(f"{what} must be a JSON object")
    return value

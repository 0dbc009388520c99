"""Where executors take work from: a durable JetStream pull consumer, drained cleanly.

At most one pull request is outstanding at a time, so the intake always
knows whether the broker may still deliver to it. That is what makes a
graceful stop exact: after `close()` no new request is sent, messages the
last request still delivers are handed out (the executor runs them, it
asked for them), and once that request is fulfilled or expired nothing else
can arrive. Unsubscribing earlier would strand delivered messages until
ack_wait, and their redelivery would count as an interrupted run
(`safe-rerun` false fails) though they never ran.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import deque

import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = structlog.get_logger(__name__)

#: Status codes that end a pull request quietly (404 no messages, 408 expired);
#: any other but 100 (heartbeat) ends it too, and is logged.
_ROUTINE_STATUSES = frozenset({"404", "408"})
#: Seconds past `expires` after which an unanswered request is taken as lost.
_LOST_AFTER_SECONDS = 3.0


class WorkIntake:
    """Pulls messages of one durable consumer, one pull request at a time.

    Args:
        nc: Connected NATS client.
        stream: Stream name (LEVANTE_WORK).
        durable: Durable consumer name, shared by every executor of a target.
        expires: Lifetime of a pull request, in seconds; a stop waits at
            most this long for the last request to end.
    """

    def __init__(self, nc: Client, *, stream: str, durable: str, expires: float = 2.0) -> None:
        self._nc = nc
        self._next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._expires = expires
        self._inbox = nc.new_inbox()
        self._subscription: Subscription | None = None
        self._buffer: deque[Msg] = deque()
        self._arrived = asyncio.Event()
        self._outstanding = 0
        self._requested_at = 0.0
        self._open = True

    async def start(self) -> None:
        """Subscribes to the delivery inbox (requests are sent by `next_batch`)."""
        self._subscription = await self._nc.subscribe(self._inbox, cb=self._on_message)

    def close(self) -> None:
        """Sends no more pull requests; what the last one delivers is still handed out."""
        self._open = False

    @property
    def settled(self) -> bool:
        """True once closed, no request can deliver any more, and nothing is left to hand out."""
        return not self._open and not self._request_alive() and not self._buffer

    async def next_batch(self, *, max_messages: int, timeout: float) -> list[Msg]:
        """Up to `max_messages` messages, waiting up to `timeout` for the first.

        While open, asks the broker for as many as `max_messages` allows when
        no request is outstanding. The caller must be able to run every
        message it asked for.
        """
        wanted = max_messages - len(self._buffer)
        if self._open and wanted > 0 and not self._request_alive():
            await self._request(wanted)
        if not self._buffer:
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return []
        batch: list[Msg] = []
        while self._buffer and len(batch) < max_messages:
            batch.append(self._buffer.popleft())
        return batch

    async def stop(self) -> None:
        """Unsubscribes; call once `settled` (or when giving up on the broker)."""
        self._open = False
        if self._subscription is not None:
            try:
                await self._subscription.unsubscribe()
            except Exception:  # the connection is already gone: nothing to undo
                pass
            self._subscription = None

    def _request_alive(self) -> bool:
        if self._outstanding and (
            time.monotonic() - self._requested_at > self._expires + _LOST_AFTER_SECONDS
        ):
            log.warning("pull request unanswered; taking it as lost", inbox=self._inbox)
            self._outstanding = 0
        return self._outstanding > 0

    async def _request(self, count: int) -> None:
        if not self._nc.is_connected:
            return
        payload = json.dumps({"batch": count, "expires": int(self._expires * 1e9)}).encode()
        self._outstanding = count
        self._requested_at = time.monotonic()
        try:
            await self._nc.publish(self._next_subject, payload, reply=self._inbox)
        except Exception:  # reconnecting: the next call asks again
            self._outstanding = 0

    async def _on_message(self, msg: Msg) -> None:
        status = msg.headers.get("Status") if msg.headers else None
        if status is None:
            self._outstanding = max(0, self._outstanding - 1)
            self._buffer.append(msg)
        elif status == "100":  # heartbeat or flow control
            return
        else:
            if status not in _ROUTINE_STATUSES:
                description = msg.headers.get("Description", "") if msg.headers else ""
                log.warning("pull request ended early", status=status, description=description)
            self._outstanding = 0
        self._arrived.set()

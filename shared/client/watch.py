"""Following a running execution: the event stream when the server offers one, polling if not.

`follow` is what the live views use. It tries the gRPC event stream first,
then the REST face's Server-Sent Events, and falls back to polling the
REST resources (the execution, its sub-executions, their tasks and the
with-items tasks' actions) every few hundred milliseconds when neither is
offered (UNIMPLEMENTED / 404) or a stream breaks. Every source updates the
same `ExecutionProgress`; mutations happen under its `lock`, so a renderer
on another thread may read it under the same lock.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from levante.client.events import WatchNotOfferedError, watch_execution
from levante.client.progress import TERMINAL, ExecutionProgress, items_total
from levante.client.rest import NotFoundError, RestClient

#: How often the polling fallback asks, in seconds.
POLL_INTERVAL = 0.3


class LockedProgress(ExecutionProgress):
    """An ExecutionProgress with the lock its watcher and its renderer share."""

    def __init__(self, root_id: str) -> None:
        super().__init__(root_id)
        self.lock = threading.RLock()
        #: Where updates come from now: "grpc", "sse" or "polling".
        self.source = ""


class Watch(Protocol):
    """One way of following an execution."""

    #: Short name of the source, shown by the views.
    source: str

    def run(self, progress: LockedProgress) -> Iterator[None]:
        """Updates `progress`, yielding after each change; returns once the root is final.

        Raises WatchNotOfferedError if this source is not available before
        anything was received, and any ClientError afterwards.
        """
        ...


@dataclass(slots=True)
class EventWatch:
    """Applies an event stream (gRPC or SSE), looking up with-items totals once per task."""

    source: str
    events: Callable[[], Iterator[dict[str, Any]]]
    rest: RestClient
    _probed: set[str] = field(default_factory=set)

    def run(self, progress: LockedProgress) -> Iterator[None]:
        for event in self.events():
            with progress.lock:
                task = progress.apply(event)
            if task is not None and task.id not in self._probed:
                self._probed.add(task.id)
                total = items_total(self.rest.task(task.id))
                if total is not None:
                    with progress.lock:
                        progress.set_items_total(task.id, total)
            yield
        # The stream ended with the execution: one snapshot makes the final
        # picture exact (state_info texts, anything a replay did not carry).
        Snapshotter(self.rest).sync(progress)
        yield


@dataclass(slots=True)
class PollingWatch:
    """Re-reads the execution tree over REST every `interval` seconds."""

    rest: RestClient
    interval: float = POLL_INTERVAL
    source: str = "polling"

    def run(self, progress: LockedProgress) -> Iterator[None]:
        snapshots = Snapshotter(self.rest)
        while True:
            snapshots.sync(progress)
            yield
            if progress.finished:
                return
            time.sleep(self.interval)


class Snapshotter:
    """Reads the tree over REST into a progress, skipping what already finished."""

    def __init__(self, rest: RestClient) -> None:
        self._rest = rest
        self._settled_executions: set[str] = set()
        self._settled_tasks: set[str] = set()

    def sync(self, progress: LockedProgress) -> None:
        """One pass: the root, its sub-executions (if any task is a sub-workflow), tasks, items."""
        root = self._rest.execution(progress.root_id)
        executions = [root]
        tasks_by_execution: dict[str, list[dict[str, Any]]] = {}
        pending = [root]
        seen = {root["id"]}
        while pending:
            execution = pending.pop(0)
            if execution["id"] in self._settled_executions:
                continue
            tasks = self._rest.tasks(execution["id"])
            tasks_by_execution[execution["id"]] = tasks
            if any(t.get("type") == "WORKFLOW" for t in tasks) and execution is root:
                for child in self._rest.descendants(progress.root_id):
                    if child["id"] not in seen:
                        seen.add(child["id"])
                        executions.append(child)
                        pending.append(child)
        items: dict[str, list[dict[str, Any]]] = {}
        for tasks in tasks_by_execution.values():
            for task in tasks:
                if task["id"] in self._settled_tasks or items_total(task) is None:
                    continue
                items[task["id"]] = self._rest.task_action_executions(task["id"])
        with progress.lock:
            for execution in executions:
                progress.merge_execution(execution)
            for tasks in tasks_by_execution.values():
                for task in tasks:
                    progress.merge_task(task)
            for task_id, actions in items.items():
                progress.set_items(task_id, actions)
        for execution in executions:
            tasks = tasks_by_execution.get(execution["id"])
            if tasks is None:
                continue
            for task in tasks:
                if task.get("state") in TERMINAL:
                    self._settled_tasks.add(task["id"])
            if execution.get("state") in TERMINAL:
                self._settled_executions.add(execution["id"])


def follow(
    execution_id: str,
    *,
    rest: RestClient,
    grpc_address: str | None,
    token: str | None = None,
    progress: LockedProgress | None = None,
    poll: bool = False,
) -> Iterator[LockedProgress]:
    """Follows an execution to its end, yielding its progress after every change.

    Sources in order of preference: gRPC events, SSE events, polling (only
    polling with `poll`). A source the server does not offer is skipped; a
    stream that breaks halfway hands over to polling, which re-reads the
    whole tree.
    """
    progress = progress or LockedProgress(execution_id)
    if poll:
        progress.source = "polling"
        yield from _polling(progress, rest)
        return
    watches: list[Watch] = []
    if grpc_address:
        watches.append(
            EventWatch(
                "grpc",
                lambda: watch_execution(grpc_address, execution_id, replay=True, token=token),
                rest,
            )
        )
    watches.append(EventWatch("sse", lambda: rest.events(execution_id, replay=True), rest))
    watches.append(PollingWatch(rest))
    for watch in watches:
        progress.source = watch.source
        received = False
        try:
            for _ in watch.run(progress):
                received = True
                yield progress
            return
        except (WatchNotOfferedError, OSError, http.client.HTTPException):
            # Not offered, or the stream broke: polling re-reads the whole tree.
            if received:
                break
        except NotFoundError:
            if received or isinstance(watch, PollingWatch):
                raise
            # The SSE route is missing (404) on servers without the watch; an
            # unknown execution is reported by the polling that follows.
    progress.source = "polling"
    yield from _polling(progress, rest)


def _polling(progress: LockedProgress, rest: RestClient) -> Iterator[LockedProgress]:
    for _ in PollingWatch(rest).run(progress):
        yield progress

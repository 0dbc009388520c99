"""The HA harness's load: the reference workflow shapes, their expected outcomes, and a runner.

Shapes (every action is `ha.record`, which logs its runs; see tests/ha/actions.py):

- sequence: three tasks in a chain, the second after a wait-before timer;
- join: four parallel branches joined by a `join: all` task;
- items: with-items over six items, concurrency 2;
- subflows: a sub-workflow, then a with-items over two more;
- retry: a task failing its first two runs, with `retry: {count: 3, delay: 1}`;
- failing: a task that always fails: the execution must end in ERROR.

Tasks are not `safe-rerun` (Mistral's default) except those in SAFE_TASKS.
The runner keeps a number of executions in flight through the REST face of
the cluster's api processes (each start carries its own id, so a start
retried after an outage is the same execution), and watches their states in
the database: it needs no api to tell whether they ended.
"""

from __future__ import annotations

import itertools
import json
import random
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from levante.persistence import models
from levante.persistence.db import Database

TERMINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})
#: Tasks whose actions may run again after an interruption.
SAFE_TASKS = frozenset({"b", "p2"})

DEFINITIONS = """\
version: '2.0'

ha_sequence:
  input: [n]
  output:
    total: <% $.c %>
  tasks:
    a:
      action: ha.record value=<% $.n %> seconds=0.2
      publish: {a: <% task().result %>}
      on-success: b
    b:
      action: ha.record value=<% $.a + 1 %> seconds=0.2
      safe-rerun: true
      wait-before: 1
      publish: {b: <% task().result %>}
      on-success: c
    c:
      action: ha.record value=<% $.b * 2 %> seconds=0.2
      publish: {c: <% task().result %>}

ha_join:
  input: [n]
  output:
    sum: <% $.sum %>
  tasks:
    p1:
      action: ha.record value=<% $.n %> seconds=0.3
      publish: {p1: <% task().result %>}
      on-success: joined
    p2:
      action: ha.record value=<% 2 * $.n %> seconds=0.3
      safe-rerun: true
      publish: {p2: <% task().result %>}
      on-success: joined
    p3:
      action: ha.record value=<% 3 * $.n %> seconds=0.3
      publish: {p3: <% task().result %>}
      on-success: joined
    p4:
      action: ha.record value=<% 4 * $.n %> seconds=0.3
      publish: {p4: <% task().result %>}
      on-success: joined
    joined:
      join: all
      action: ha.record value=<% $.p1 + $.p2 + $.p3 + $.p4 %>
      publish: {sum: <% task().result %>}

ha_items:
  input: [n]
  output:
    values: <% $.values %>
  tasks:
    each:
      with-items: x in <% [1, 2, 3, 4, 5, 6] %>
      concurrency: 2
      action: ha.record value=<% $.x * $.n %> seconds=0.2
      publish: {values: <% task().result %>}

ha_subflows:
  input: [n]
  output:
    first: <% $.first %>
    more: <% $.more %>
  tasks:
    first:
      workflow: ha_sequence n=<% $.n %>
      publish: {first: <% task().result.total %>}
      on-success: more
    more:
      with-items: m in <% [1, 2] %>
      concurrency: 2
      workflow: ha_sequence n=<% $.n + $.m %>
      publish: {more: <% task().result.select($.total) %>}

ha_retry:
  input: [n]
  output:
    value: <% $.value %>
  tasks:
    flaky:
      action: ha.record value=<% $.n %> fail_first=2 seconds=0.1
      retry:
        count: 3
        delay: 1
      publish: {value: <% task().result %>}

ha_failing:
  input: [n]
  tasks:
    doomed:
      action: ha.record value=<% $.n %> fail_first=1000
"""


@dataclass(frozen=True, slots=True)
class Shape:
    """A workflow of the load and what an execution of it must end with."""

    workflow: str
    state: str
    output: Callable[[int], dict[str, Any]] | None = None
    state_info: str | None = None


SHAPES = (
    Shape("ha_sequence", "SUCCESS", lambda n: {"total": (n + 1) * 2}),
    Shape("ha_join", "SUCCESS", lambda n: {"sum": 10 * n}),
    Shape("ha_items", "SUCCESS", lambda n: {"values": [x * n for x in range(1, 7)]}),
    Shape(
        "ha_subflows",
        "SUCCESS",
        lambda n: {"first": (n + 1) * 2, "more": [(n + 2) * 2, (n + 3) * 2]},
    ),
    Shape("ha_retry", "SUCCESS", lambda n: {"value": n}),
    Shape("ha_failing", "ERROR", state_info="fails on purpose"),
)
BY_WORKFLOW = {shape.workflow: shape for shape in SHAPES}


@dataclass
class Started:
    """One execution the runner started."""

    id: str
    shape: Shape
    n: int
    submitted_at: float
    finished_at: float | None = None
    state: str | None = None


@dataclass
class LoadResult:
    """What the runner saw; the verdict is made by `tests.ha.verify`."""

    started: list[Started] = field(default_factory=list)
    submit_failures: int = 0
    #: Moments (monotonic) at which an execution was seen to end.
    finishes: list[float] = field(default_factory=list)


def _post(url: str, payload: dict[str, Any], *, timeout: float) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def upload(api_url: str, *, timeout: float = 60.0) -> None:
    """Uploads the shapes' workflows (once per database)."""
    request = urllib.request.Request(
        f"{api_url}/workflows",
        data=DEFINITIONS.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout):
            return
    except urllib.error.HTTPError as error:
        body = error.read().decode(errors="replace")
        if error.code != 409:
            raise AssertionError(f"uploading the HA workflows: {error.code} {body}") from error


class LoadRunner:
    """Keeps `in_flight` executions running until `total` were started or `duration` passed.

    Args:
        api_urls: Returns the REST bases of the live api processes (asked per start).
        database: Where the executions' states are read.
        total: How many executions to start at most.
        in_flight: How many may run at once.
        duration: Seconds after which no new execution is started.
        seed: Seed of the shape and input choices.
        hold: Until this is set, starting goes on past `duration`
            (the faults a scenario injects must all meet a load).
    """

    def __init__(
        self,
        api_urls: Callable[[], list[str]],
        database: Database,
        *,
        total: int,
        in_flight: int,
        duration: float | None = None,
        seed: int = 0,
        hold: threading.Event | None = None,
    ) -> None:
        self._api_urls = api_urls
        self._db = database
        self._total = total
        self._in_flight = in_flight
        self._duration = duration
        self._hold = hold
        self._random = random.Random(seed)
        self._shapes = itertools.cycle(SHAPES)
        self.result = LoadResult()
        self._running: dict[str, Started] = {}
        self._lock = threading.Lock()
        self.done_starting = threading.Event()

    def _submit(self) -> Started:
        shape = next(self._shapes)
        started = Started(str(uuid.uuid4()), shape, self._random.randint(1, 1000), time.time())
        payload = {"id": started.id, "workflow_name": shape.workflow, "input": {"n": started.n}}
        # The same id on every attempt: a start that reached the engine before
        # the answer was lost is found, not started twice.
        deadline = time.time() + 300
        while time.time() < deadline:
            urls = self._api_urls()
            if urls:
                status = _post(f"{self._random.choice(urls)}/executions", payload, timeout=60)
                if status == 201:
                    return started
                if 400 <= status < 500 and status not in (404, 409, 429):
                    raise AssertionError(f"starting {shape.workflow} was refused: {status}")
            with self._lock:
                self.result.submit_failures += 1
            time.sleep(0.5)
        raise AssertionError(f"could not start an execution of {shape.workflow} in 300 s")

    def _refresh(self) -> None:
        with self._lock:
            ids = list(self._running)
        if not ids:
            return
        try:
            with self._db.read() as session:
                rows = session.execute(
                    select(models.WorkflowExecution.id, models.WorkflowExecution.state).where(
                        models.WorkflowExecution.id.in_(ids)
                    )
                ).all()
        except Exception:  # the database is away: the states are read again later
            return
        now = time.time()
        with self._lock:
            for execution_id, state in rows:
                if state in TERMINAL and execution_id in self._running:
                    started = self._running.pop(execution_id)
                    started.state, started.finished_at = state, now
                    self.result.finishes.append(now)

    def run(self, *, drain_timeout: float, submitters: int = 8) -> LoadResult:
        """Starts, watches, and waits up to `drain_timeout` for the last ones to end."""
        begun = time.time()
        pending: set[Future[Started]] = set()
        drain_deadline = float("inf")
        with ThreadPoolExecutor(submitters, thread_name_prefix="ha-submit") as pool:
            while True:
                self._refresh()
                for future in [f for f in pending if f.done()]:
                    pending.discard(future)
                    started = future.result()  # a start refused for good fails the run
                    with self._lock:
                        self._running[started.id] = started
                    self.result.started.append(started)
                expired = self._duration is not None and time.time() - begun > self._duration
                if self._hold is not None and not self._hold.is_set():
                    expired = False
                submitted = len(self.result.started) + len(pending)
                if not self.done_starting.is_set() and (submitted >= self._total or expired):
                    self.done_starting.set()
                if not self.done_starting.is_set():
                    free = self._in_flight - self.running() - len(pending)
                    for _ in range(max(0, min(free, self._total - submitted))):
                        pending.add(pool.submit(self._submit))
                elif not pending:
                    if drain_deadline == float("inf"):
                        drain_deadline = time.time() + drain_timeout
                    if not self.running() or time.time() > drain_deadline:
                        return self.result
                time.sleep(0.25)

    def running(self) -> int:
        """Executions started and not seen ending yet."""
        with self._lock:
            return len(self._running)

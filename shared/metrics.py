"""Prometheus metrics of this process (names prefixed `levante_`), served at GET /metrics.

Each service records its own: the engine what finished and how long tasks
took, executors how long actions queued and ran, the scheduler how late
timers fired, every consumer the redeliveries it saw. `MetricsService`
(one per process) samples the JetStream queues, counts executions by state
where the api runs, and serves /metrics on LEVANTE_METRICS_PORT for
processes without the REST face (which serves it on the REST port).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

TIMERS_DELIVERED = Counter(
    "levante_timers_delivered", "Timers the scheduler published to the engine."
)
TIMER_LAG = Histogram(
    "levante_timer_lag_seconds",
    "How long after its due time the scheduler published a timer.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
CRON_FIRED = Counter("levante_cron_triggers_fired", "Cron trigger due times fired.")
EXECUTIONS_EXPIRED = Counter(
    "levante_executions_expired", "Finished executions deleted by the expiration policy."
)
RECOVERED = Counter(
    "levante_recovery", "Work found lost after an outage, by what recovery did.", ["outcome"]
)
ENGINE_EVENTS = Counter("levante_engine_events", "Engine events applied.")
ACTIONS_RUN = Counter("levante_actions", "Actions run by executors, by outcome.", ["outcome"])
ACTION_DURATION = Histogram(
    "levante_action_duration_seconds",
    "How long actions ran in an executor, by action and outcome.",
    ["action", "outcome"],
    buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800),
)
ACTION_QUEUE_TIME = Histogram(
    "levante_action_queue_seconds",
    "From the engine asking for an action to an executor starting it.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5, 30, 120),
)
REDELIVERIES = Counter(
    "levante_redeliveries",
    "Messages a consumer received again (the previous delivery was not acked in time).",
    ["consumer"],
)
for _consumer in ("engine", "executor"):  # both series exist before the first redelivery
    REDELIVERIES.labels(consumer=_consumer)
EXECUTIONS_FINISHED = Counter(
    "levante_workflow_executions_finished",
    "Workflow executions (roots and sub-workflows) that reached a final state, by state.",
    ["state"],
)
TASKS_FINISHED = Counter(
    "levante_task_executions_finished", "Task executions that reached a final state.", ["state"]
)
TASK_DURATION = Histogram(
    "levante_task_duration_seconds",
    "From a task's start to its final state, by that state.",
    ["state"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600),
)

_FINAL = frozenset({"SUCCESS", "ERROR", "CANCELLED"})


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST


def record_delivery(consumer: str, msg: Any) -> None:
    """Counts a redelivered JetStream message (delivered more than once)."""
    try:
        delivered = msg.metadata.num_delivered
    except Exception:  # not a JetStream message (a test's fake): nothing to count
        return
    if delivered and delivered > 1:
        REDELIVERIES.labels(consumer=consumer).inc()


def record_changes(before: Any, after: Any, changed: Any) -> None:
    """Counts what finished between two states of an execution, and how long its tasks took.

    Reads the engine's ExecutionState values by attribute (state, each
    task's state, started_at, finished_at); `changed` lists the (previous or
    None, current) pairs of the tasks that changed (the engine's
    `changed_tasks`).
    """
    if before.state is not after.state and str(after.state) in _FINAL:
        EXECUTIONS_FINISHED.labels(state=str(after.state)).inc()
    for old, task in changed:
        if str(task.state) not in _FINAL:
            continue
        if old is not None and old.state is task.state:
            continue
        state = str(task.state)
        TASKS_FINISHED.labels(state=state).inc()
        started, finished = task.started_at, task.finished_at
        if isinstance(started, datetime) and isinstance(finished, datetime):
            seconds = max(0.0, (finished - started).total_seconds())
            TASK_DURATION.labels(state=state).observe(seconds)

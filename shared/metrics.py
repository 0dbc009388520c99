"""Prometheus metrics of this process (names prefixed `levante_`), served at GET /metrics.

Each service increments its own counters; a process serves the metrics of
the services it runs (all of them in the embedded default).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

TIMERS_DELIVERED = Counter(
    "levante_timers_delivered", "Timers the scheduler published to the engine."
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


def render() -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST

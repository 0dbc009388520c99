"""State vocabulary shared by executions, tasks and action executions."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """Mistral's states, by the names workflow expressions compare against."""

    IDLE = "IDLE"
    WAITING = "WAITING"
    RUNNING = "RUNNING"
    RUNNING_DELAYED = "RUNNING_DELAYED"
    PAUSED = "PAUSED"
    SUCCESS = "SUCCESS"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"
    SKIPPED = "SKIPPED"


COMPLETED = frozenset({State.SUCCESS, State.ERROR, State.CANCELLED, State.SKIPPED})
ACTIVE = frozenset({State.IDLE, State.WAITING, State.RUNNING, State.RUNNING_DELAYED})

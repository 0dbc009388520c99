"""Turning a user's state change of an execution into a machine event."""

from __future__ import annotations

from typing import Any

from levante.engine.state import Event, PauseExecution, ResumeExecution, StopExecution
from levante.errors import InputError

ALLOWED = ("RUNNING", "PAUSED", "SUCCESS", "ERROR", "CANCELLED")


def control_event(state: str, state_info: str | None, env: dict[str, Any] | None) -> Event:
    """The event for a requested state: pause, resume (with env) or stop."""
    if state == "PAUSED":
        return PauseExecution()
    if state == "RUNNING":
        return ResumeExecution(env=env or None)
    if state in ("SUCCESS", "ERROR", "CANCELLED"):
        return StopExecution(state=state, state_info=state_info)
    raise InputError(f"Cannot change state to {state}. Allowed states are: '{', '.join(ALLOWED)}")

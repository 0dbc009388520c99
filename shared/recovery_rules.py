"""What happens to work an outage or a crash interrupted: shared by those who apply and report it.

The executor fails redelivered work that is not `safe-rerun`, the
scheduler's recovery re-sends or fails actions whose work was lost, and
`levante doctor` tells operators which of these applies or applied. They
word their traces here, so the doctor finds what the others wrote, and read
recovery's timing from one place.

Environment: LEVANTE_RECOVERY_AFTER_SECONDS (how long an action runs with
its work gone before recovery judges it lost, default 120) and
LEVANTE_RECOVERY_INTERVAL_SECONDS (how often recovery looks, default 30).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from levante.errors import InputError

#: In the failure of an action the executor received again after an interruption.
INTERRUPTED = "was interrupted (its executor stopped)"
#: In the failure of an action recovery found lost.
LOST = "was lost in a broker or database outage"
#: Start of the state_info recovery gives an action it sent again.
RESENT = "Re-sent by recovery"


def interrupted_message(action_name: str, action_id: str) -> str:
    """The failure of redelivered work that is not safe to rerun."""
    return (
        f"Action {action_name} [action_ex_id={action_id}] {INTERRUPTED} and is not safe "
        "to rerun (safe-rerun: false)"
    )


def lost_message(action_name: str, action_id: str) -> str:
    """The failure of a lost action that is not safe to rerun."""
    return (
        f"Action {action_name} [action_ex_id={action_id}] {LOST} and is not safe to rerun "
        "(safe-rerun: false)"
    )


def resent_note(when: datetime) -> str:
    """The state_info of an action recovery sent again (it is safe-rerun)."""
    return (
        f"{RESENT} at {when.isoformat(timespec='seconds')}Z: its work {LOST.removeprefix('was ')}"
    )


_AFTER_SECONDS = 120.0
_INTERVAL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class RecoveryTiming:
    """When the scheduler's recovery looks for lost work and judges an action lost."""

    after_seconds: float = _AFTER_SECONDS
    interval_seconds: float = _INTERVAL_SECONDS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RecoveryTiming:
        """Reads the variables; raises InputError naming a bad value."""
        return cls(
            after_seconds=_seconds(environ, "LEVANTE_RECOVERY_AFTER_SECONDS", _AFTER_SECONDS),
            interval_seconds=_seconds(
                environ, "LEVANTE_RECOVERY_INTERVAL_SECONDS", _INTERVAL_SECONDS
            ),
        )


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise InputError(f"{name} must be a positive number of seconds, got {raw!r}")
    return value

"""What an action run ends in: `Success`, `Failure` or, for asynchronous actions, `Pending`.

An action may return a plain value (a success), return one of these, or
raise `ActionError` (a failure). The catalogue always hands back one of the
three result types, never raises for an action's own failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Success:
    """The action succeeded; `value` is its result (JSON-serializable)."""

    value: Any = None


@dataclass(frozen=True, slots=True)
class Failure:
    """The action failed.

    Attributes:
        message: Human-readable reason; becomes the task's `state_info`.
        data: Structured error result (e.g. `std.fail`'s `error_data`, or the
            response of a failed `std.http` call), or None.
    """

    message: str
    data: Any = None


@dataclass(frozen=True, slots=True)
class Pending:
    """An asynchronous action was started; its result arrives later through the API."""


#: What an action itself may return to say how it went (a plain value means Success).
Result = Success | Failure

#: What running an action through the catalogue ends in.
Outcome = Success | Failure | Pending


class ActionError(Exception):
    """Raised by an action to fail with `message` and optional structured `data`."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def __str__(self) -> str:
        return self.message

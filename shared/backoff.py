"""Growing pauses between attempts at work whose dependency may be away."""

from __future__ import annotations


class Backoff:
    """Pauses that double while an operation keeps failing, up to `maximum`; a success resets.

    For loops that retry work whose dependency may be away: they retry at
    their normal pace once it answers, and meanwhile neither spin nor flood
    the log (`worth_logging` is true at the first failure, then every 20th).
    """

    def __init__(self, *, base: float, maximum: float) -> None:
        self._base = base
        self._maximum = maximum
        self.failures = 0

    def failed(self) -> float:
        """Counts a failure; returns the pause before the next attempt."""
        self.failures += 1
        return min(self._maximum, self._base * 2**self.failures)

    def succeeded(self) -> None:
        """Resets the count."""
        self.failures = 0

    @property
    def worth_logging(self) -> bool:
        """Whether the failure just counted should be logged."""
        return self.failures == 1 or self.failures % 20 == 0

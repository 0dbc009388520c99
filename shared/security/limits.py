"""Request limits: sizes of definitions and inputs, and executions started per project.

One `Limits` per api process, built from `SecuritySettings`. Sizes are
checked on the text the API stores or hands the engine, before anything
is parsed further or stored. The rate limit is a token bucket per project
(burst = the per-minute allowance), kept in this process: with several api
replicas each admits that many.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from levante.errors import PayloadTooLargeError, RateLimitedError
from levante.security.settings import SecuritySettings

#: How many idle projects' buckets are kept before full ones are forgotten.
_MAX_BUCKETS = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


@dataclass(slots=True)
class Limits:
    """Size limits (bytes of UTF-8 text) and the per-project execution rate (0: none)."""

    max_definition_bytes: int = 1024 * 1024
    max_input_bytes: int = 1024 * 1024
    executions_per_minute: int = 0
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def from_settings(cls, settings: SecuritySettings) -> Limits:
        """The limits the settings configure."""
        return cls(
            max_definition_bytes=settings.max_definition_bytes,
            max_input_bytes=settings.max_input_bytes,
            executions_per_minute=settings.executions_per_minute,
        )

    def check_definition(self, text: str) -> None:
        """Raises PayloadTooLargeError for a definition over LEVANTE_MAX_DEFINITION_KB."""
        _check("The definition", text, self.max_definition_bytes, "LEVANTE_MAX_DEFINITION_KB")

    def check_size(self, what: str, text: str) -> None:
        """Raises PayloadTooLargeError when `what` (JSON text) is over LEVANTE_MAX_INPUT_KB."""
        _check(f"The {what}", text, self.max_input_bytes, "LEVANTE_MAX_INPUT_KB")

    def admit_execution(self, project_id: str) -> None:
        """Takes one execution start from the project's allowance.

        Raises RateLimitedError (with how long until one is available) when
        the project used its allowance.
        """
        rate = self.executions_per_minute
        if rate <= 0:
            return
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(project_id)
            if bucket is None:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._forget_full(now)
                bucket = self._buckets[project_id] = _Bucket(tokens=float(rate), updated=now)
            bucket.tokens = min(float(rate), bucket.tokens + (now - bucket.updated) * rate / 60)
            bucket.updated = now
            if bucket.tokens < 1:
                wait = (1 - bucket.tokens) * 60 / rate
                raise RateLimitedError(
                    f"Too many executions started by project {project_id}: at most {rate} per "
                    f"minute (LEVANTE_RATE_LIMIT_EXECUTIONS); retry in {wait:.1f} s",
                    retry_after=wait,
                )
            bucket.tokens -= 1

    def _forget_full(self, now: float) -> None:
        rate = self.executions_per_minute
        for project, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * rate / 60 >= rate:
                del self._buckets[project]


def _check(what: str, text: str, limit: int, variable: str) -> None:
    # Characters are at most 4 bytes: short texts need no encoding to be counted.
    if len(text) * 4 <= limit:
        return
    size = len(text.encode())
    if size > limit:
        raise PayloadTooLargeError(
            f"{what} is too large: {size} bytes, the limit is {limit} ({variable})"
        )


__all__ = ["Limits"]

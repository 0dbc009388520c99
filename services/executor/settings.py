"""The executor's settings, read from the environment by its composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from levante.errors import InputError


@dataclass(frozen=True, slots=True)
class ExecutorSettings:
    """How an executor runs actions.

    Environment variables: LEVANTE_EXECUTOR_CONCURRENCY (actions at once,
    default 64), LEVANTE_EXECUTOR_THREADS (thread pool for blocking actions,
    default 16), LEVANTE_EXECUTOR_GRACE_SECONDS (how long a stop waits for
    running actions, default 60), LEVANTE_PUBLIC_URL (base of the callback
    URL given to asynchronous actions, e.g. `https://levante.example/v2`).
    Action plugins and the HTTP guard are configured by LEVANTE_ACTION_PACKS
    and LEVANTE_HTTP_ALLOWED_HOSTS (see `levante.actions`).
    """

    concurrency: int = 64
    threads: int = 16
    grace_seconds: float = 60.0
    public_url: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ExecutorSettings:
        """Reads the variables; raises InputError naming a bad value."""
        return cls(
            concurrency=_positive_int(environ, "LEVANTE_EXECUTOR_CONCURRENCY", 64),
            threads=_positive_int(environ, "LEVANTE_EXECUTOR_THREADS", 16),
            grace_seconds=_seconds(environ, "LEVANTE_EXECUTOR_GRACE_SECONDS", 60.0),
            public_url=(environ.get("LEVANTE_PUBLIC_URL") or "").rstrip("/") or None,
        )


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise InputError(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


def _seconds(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise InputError(f"{name} must be a number of seconds, got {raw!r}")
    return value

"""Structured logging (structlog) for every service."""

from __future__ import annotations

import logging
import sys

import structlog

from levante import tracing
from levante.security import secrets


def configure(*, level: str = "info", fmt: str = "console") -> None:
    """Sets up structlog and the standard library's logging to stderr."""
    numeric = getattr(logging, level.upper(), logging.INFO)
    logging.basicConfig(level=numeric, stream=sys.stderr, format="%(message)s")
    for noisy in ("nats", "aiohttp.access", "alembic"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    renderer = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _trace_ids,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            # Secret values this process handled never reach a log line.
            secrets.scrub_log_event,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )


def _trace_ids(_logger: object, _method: str, event: dict[str, object]) -> dict[str, object]:
    """Adds the current trace and span ids while tracing is on (LEVANTE_TRACING)."""
    ids = tracing.current_ids()
    if ids is not None:
        event["trace_id"], event["span_id"] = ids
    return event

"""OpenTelemetry traces that follow one execution through api, engine and executor.

LEVANTE_TRACING chooses the exporter: `off` (default), `console` (one JSON
object per span and line on stdout) or `otlp` (OTLP over gRPC; the standard
OTEL_EXPORTER_OTLP_ENDPOINT, _HEADERS, ... configure it; needs the `otlp`
extra). OTEL_SERVICE_NAME overrides the service name (`levante-<services>`).

How the context travels (W3C `traceparent`):

- api -> engine: gRPC metadata, by OpenTelemetry's gRPC instrumentation of
  every aio server and channel this process creates;
- engine -> executor: the `traceparent` field of each RunAction (it survives
  the outbox) and the NATS header of the published message;
- executor -> engine: the NATS header of the ActionResult event; the engine
  applies each batch of a tree in a span whose parent is the first event's.

When tracing is off nothing is instrumented, `span()` returns a shared
no-op context manager and `traceparent()` an empty string: no measurable
cost. The switch is process-wide because OpenTelemetry's provider and its
gRPC instrumentation are.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from levante.errors import InputError

MODES = ("off", "console", "otlp")
TRACEPARENT = "traceparent"

_NOOP = contextlib.nullcontext()


class _State:
    """The configured provider and tracer (None while tracing is off)."""

    provider: Any = None
    tracer: Any = None
    instrumentors: list[Any] = []


_state = _State()


def enabled() -> bool:
    """Whether spans are recorded in this process."""
    return _state.tracer is not None


def configure(
    *,
    service: str,
    environ: Mapping[str, str] | None = None,
    exporter: Any = None,
) -> bool:
    """Turns tracing on as LEVANTE_TRACING says; returns whether it is on.

    `exporter` (a SpanExporter, e.g. an InMemorySpanExporter in tests)
    replaces the one LEVANTE_TRACING names. Raises InputError for an
    unknown mode or a missing OTLP exporter package.
    """
    env = os.environ if environ is None else environ
    mode = (env.get("LEVANTE_TRACING") or "off").strip().lower()
    if mode not in MODES:
        raise InputError(f"LEVANTE_TRACING must be one of {', '.join(MODES)}, got {mode!r}")
    if exporter is None and mode == "off":
        return False
    if _state.tracer is not None:
        return True
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    name = env.get("OTEL_SERVICE_NAME") or f"levante-{service}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    elif mode == "console":
        provider.add_span_processor(SimpleSpanProcessor(_console_exporter()))
    else:
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter()))
    trace.set_tracer_provider(provider)
    _state.provider = provider
    _state.tracer = provider.get_tracer("levante")
    _instrument_grpc(provider)
    return True


def shutdown() -> None:
    """Flushes and stops the exporter; tracing is off afterwards."""
    for instrumentor in _state.instrumentors:
        with contextlib.suppress(Exception):
            instrumentor.uninstrument()
    _state.instrumentors = []
    if _state.provider is not None:
        _state.provider.shutdown()
    _state.provider = None
    _state.tracer = None


def span(
    name: str,
    *,
    parent: str | Mapping[str, str] | None = None,
    links: Iterable[str | Mapping[str, str] | None] = (),
    attributes: Mapping[str, Any] | None = None,
    kind: str = "internal",
) -> contextlib.AbstractContextManager[Any]:
    """A span around a block, current inside it; a no-op while tracing is off.

    `parent` is a `traceparent` value or a carrier holding one (NATS
    headers); without it the span continues the current context. `links`
    name other contexts this work also belongs to (the other events of a
    batch).
    """
    if _state.tracer is None:
        return _NOOP
    return _start(name, parent, links, attributes, kind)


@contextlib.contextmanager
def _start(
    name: str,
    parent: str | Mapping[str, str] | None,
    links: Iterable[str | Mapping[str, str] | None],
    attributes: Mapping[str, Any] | None,
    kind: str,
) -> Iterator[Any]:
    from opentelemetry import trace

    context = _extract(parent) if parent else None
    span_links = []
    for carrier in links:
        linked = trace.get_current_span(_extract(carrier)).get_span_context() if carrier else None
        if linked is not None and linked.is_valid:
            span_links.append(trace.Link(linked))
    with _state.tracer.start_as_current_span(
        name,
        context=context,
        kind=getattr(trace.SpanKind, kind.upper()),
        attributes={k: v for k, v in (attributes or {}).items() if v not in (None, "")},
        links=span_links,
    ) as current:
        yield current


def traceparent() -> str:
    """The current context as a W3C `traceparent` value; "" when off or outside a span."""
    if _state.tracer is None:
        return ""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get(TRACEPARENT, "")


def current_ids() -> tuple[str, str] | None:
    """The current span's trace and span ids (hex), for logs; None when off or outside one."""
    if _state.tracer is None:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    if not context.is_valid:
        return None
    return format(context.trace_id, "032x"), format(context.span_id, "016x")


def _extract(carrier: str | Mapping[str, str]) -> Any:
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    if isinstance(carrier, str):
        carrier = {TRACEPARENT: carrier}
    return TraceContextTextMapPropagator().extract(carrier)


def _console_exporter() -> Any:
    from opentelemetry.sdk.trace.export import ConsoleSpanExporter

    # One span per line: readable next to the logs, and easy to collect.
    return ConsoleSpanExporter(
        out=sys.stdout,
        formatter=lambda s: json.dumps(json.loads(s.to_json()), separators=(",", ":")) + "\n",
    )


def _otlp_exporter() -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise InputError(
            "LEVANTE_TRACING=otlp needs the OTLP exporter: pip install 'levante[otlp]'"
        ) from None
    return OTLPSpanExporter()


def _instrument_grpc(provider: Any) -> None:
    from opentelemetry.instrumentation.grpc import (
        GrpcAioInstrumentorClient,
        GrpcAioInstrumentorServer,
    )

    for instrumentor in (GrpcAioInstrumentorServer(), GrpcAioInstrumentorClient()):
        instrumentor.instrument(tracer_provider=provider)
        _state.instrumentors.append(instrumentor)

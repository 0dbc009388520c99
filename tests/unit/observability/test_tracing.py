"""Tracing: free when off, W3C context carried by value when on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from levante import tracing
from levante.errors import InputError


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    assert tracing.configure(service="test", environ={}, exporter=exporter)
    yield exporter
    tracing.shutdown()


def test_off_by_default_and_free() -> None:
    assert not tracing.configure(service="test", environ={})
    assert not tracing.enabled()
    assert tracing.span("x") is tracing.span("y")  # one shared no-op context manager
    with tracing.span("x", parent="00-" + "1" * 32 + "-" + "2" * 16 + "-01"):
        assert tracing.traceparent() == ""
        assert tracing.current_ids() is None


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(InputError, match="LEVANTE_TRACING must be one of off, console, otlp"):
        tracing.configure(service="test", environ={"LEVANTE_TRACING": "zipkin"})


def test_spans_continue_a_traceparent_and_link_the_rest(spans: InMemorySpanExporter) -> None:
    with tracing.span("api"):
        sent = tracing.traceparent()
        api_ids = tracing.current_ids()
    assert sent.startswith("00-") and api_ids is not None
    other = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    # A consumer continues from the message's headers, as NATS delivers them.
    with tracing.span("engine", parent={"traceparent": sent, "Nats-Msg-Id": "x"}, links=[other]):
        engine_ids = tracing.current_ids()
    assert engine_ids is not None and engine_ids[0] == api_ids[0]
    api, engine = spans.get_finished_spans()
    assert engine.parent is not None and engine.parent.span_id == api.context.span_id
    assert [format(link.context.trace_id, "032x") for link in engine.links] == ["a" * 32]
    assert api.resource.attributes["service.name"] == "levante-test"


def test_the_otlp_exporter_is_built_from_the_standard_variables() -> None:
    exporter = tracing._otlp_exporter()
    assert type(exporter).__name__ == "OTLPSpanExporter"

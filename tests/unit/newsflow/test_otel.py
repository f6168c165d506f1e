"""With the OpenTelemetry SDK (the `otel` extra) and a tracer provider, a task's span is a
child of its message's traceparent: the trace id the logs carry."""

from __future__ import annotations

import pytest

from newsflow import otel

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
API_SPAN = "00f067aa0ba902b7"


def test_task_span_continues_the_messages_trace() -> None:
    pytest.importorskip("opentelemetry.sdk")  # the `otel` extra; pinned in requirements.lock
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)

    span = otel.start_task_span(
        "newsflow.process_submission",
        f"00-{TRACE_ID}-{API_SPAN}-01",
        {"newsflow.submission_id": "abc"},
    )
    assert span is not None
    trace_id, span_id = otel.span_ids(span)
    span.end()

    assert trace_id == TRACE_ID
    assert span_id != API_SPAN
    (finished,) = exporter.get_finished_spans()
    assert finished.parent is not None
    assert f"{finished.parent.span_id:016x}" == API_SPAN
    assert finished.attributes == {"newsflow.submission_id": "abc"}

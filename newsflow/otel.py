"""OpenTelemetry spans for the worker's tasks, when the optional extra is installed
(`pip install 'newsflow[otel]'`): each task is a span in the trace of its message's
`traceparent`, the same trace id the logs carry. Without the OpenTelemetry SDK nothing
here imports OpenTelemetry and ``start_task_span`` answers None.

Where spans go is OpenTelemetry's own configuration: a tracer provider set by the process
(`opentelemetry-instrument`, or your code), else, with `OTEL_TRACES_EXPORTER=console`, one
that prints them."""

from __future__ import annotations

import os
from importlib.util import find_spec
from typing import Any

ENABLED = find_spec("opentelemetry") is not None and find_spec("opentelemetry.sdk") is not None


def _tracer() -> Any:
    """The tracer of the SDK's provider, or None when none is configured (no spans then:
    the API's no-op tracer would hand out spans of an invalid trace id)."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        if os.environ.get("OTEL_TRACES_EXPORTER") != "console":
            return None
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
        trace.set_tracer_provider(provider)
    return trace.get_tracer("newsflow")


def start_task_span(name: str, traceparent: str | None, attributes: dict[str, Any]) -> Any:
    """A started span (end it with ``.end()``), child of ``traceparent``; None without the
    SDK or a configured tracer provider."""
    if not ENABLED:
        return None
    tracer = _tracer()
    if tracer is None:
        return None
    from opentelemetry.trace import SpanKind
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    carrier = {"traceparent": traceparent} if traceparent else {}
    parent = TraceContextTextMapPropagator().extract(carrier)
    return tracer.start_span(name, context=parent, kind=SpanKind.CONSUMER, attributes=attributes)


def span_ids(span: Any) -> tuple[str, str]:
    """The span's trace id and span id, as the logs write them (hex)."""
    context = span.get_span_context()
    return f"{context.trace_id:032x}", f"{context.span_id:016x}"

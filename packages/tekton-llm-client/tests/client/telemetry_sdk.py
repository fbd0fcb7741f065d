"""The OpenTelemetry SDK side of the telemetry tests: one global tracer and meter provider for the whole process
(OpenTelemetry lets a process set them once), an in-memory span exporter and a delta-temporality metric reader, so
each test sees only its own spans and measurements.

Imported only by tests marked ``otel`` (from inside fixtures), so the suite still collects without the SDK."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, UpDownCounter
from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    HistogramDataPoint,
    InMemoryMetricReader,
    NumberDataPoint,
)
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter


@dataclass
class Point:
    """One metric data point: its attributes and value (a counter's sum, or a histogram's count and sum)."""

    attributes: dict[str, Any]
    value: float = 0
    count: int = 0


class _Ended(SpanProcessor):
    """Wakes tests waiting for a number of the client's spans to start or end (no polling, no sleeps)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ended = 0
        self.started = 0
        self.waiters: list[tuple[int, asyncio.Future[None]]] = []
        self.start_waiters: list[tuple[int, asyncio.Future[None]]] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        if span.instrumentation_scope is None or span.instrumentation_scope.name != "tekton_llm_client":
            return
        with self.lock:
            self.started += 1
            due = [f for n, f in self.start_waiters if n <= self.started]
            self.start_waiters = [(n, f) for n, f in self.start_waiters if n > self.started]
        for future in due:
            future.get_loop().call_soon_threadsafe(_resolve, future)

    def on_end(self, span: ReadableSpan) -> None:
        if not _ours(span):
            return  # the test server's own spans
        with self.lock:
            self.ended += 1
            due = [(n, f) for n, f in self.waiters if n <= self.ended]
            self.waiters = [(n, f) for n, f in self.waiters if n > self.ended]
        for _, future in due:
            future.get_loop().call_soon_threadsafe(_resolve, future)

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _ours(span: ReadableSpan) -> bool:
    return span.instrumentation_scope is not None and span.instrumentation_scope.name == "tekton_llm_client"


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


@dataclass
class Otel:
    """The process's SDK providers and what they recorded since the last ``clear``."""

    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader
    processor: _Ended
    base: int = 0
    started_base: int = 0

    def clear(self) -> None:
        self.exporter.clear()
        with self.processor.lock:
            self.base = self.processor.ended
            self.started_base = self.processor.started
        self.reader.get_metrics_data()  # delta temporality: the next read starts from here

    def spans(self) -> list[ReadableSpan]:
        """The client's spans (the test server's framework may trace its own side too)."""
        return [s for s in self.exporter.get_finished_spans() if _ours(s)]

    def server_spans(self) -> list[ReadableSpan]:
        """Spans of the test server's side (FastAPI traces its requests when an SDK is configured)."""
        return [s for s in self.exporter.get_finished_spans() if not _ours(s)]

    def span(self) -> ReadableSpan:
        """The one span of the test."""
        spans = self.spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    async def ended(self, count: int) -> None:
        """Wait until ``count`` spans ended since ``clear``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self.processor.lock:
            if self.processor.ended - self.base >= count:
                return
            self.processor.waiters.append((self.base + count, future))
        await future

    async def started(self, count: int) -> None:
        """Wait until ``count`` of the client's spans started since ``clear``."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        with self.processor.lock:
            if self.processor.started - self.started_base >= count:
                return
            self.processor.start_waiters.append((self.started_base + count, future))
        await future

    def metrics(self) -> dict[str, list[Point]]:
        """Metric name → data points recorded since the previous read."""
        found: dict[str, list[Point]] = {}
        data = self.reader.get_metrics_data()
        for resource in data.resource_metrics if data is not None else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    for point in metric.data.data_points:
                        attributes = dict(point.attributes or {})
                        if isinstance(point, HistogramDataPoint):
                            found.setdefault(metric.name, []).append(Point(attributes, point.sum, point.count))
                        elif isinstance(point, NumberDataPoint):
                            found.setdefault(metric.name, []).append(Point(attributes, point.value, 1))
        return found


_INSTALLED: list[Otel] = []  # at most one: the process's providers


def install() -> Otel:
    """Set the global providers once per process."""
    if not _INSTALLED:
        exporter = InMemorySpanExporter()
        processor = _Ended()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        tracer_provider.add_span_processor(processor)
        delta = AggregationTemporality.DELTA
        reader = InMemoryMetricReader(
            preferred_temporality={Counter: delta, Histogram: delta, UpDownCounter: AggregationTemporality.CUMULATIVE}
        )
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        _INSTALLED.append(Otel(exporter, reader, processor))
    return _INSTALLED[0]

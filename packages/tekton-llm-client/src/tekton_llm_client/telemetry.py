"""OpenTelemetry for the shared client: GenAI client spans and metrics, W3C context sent to Rhetor, and the
migration's progress (which legacy adapter calls still run).

Optional and free when off: install ``tekton-llm-client[otel]`` (``opentelemetry-api`` only) and configure an
OpenTelemetry SDK in the application. Without the package, or with no SDK tracer/meter provider configured,
nothing is emitted and a request pays a few checks (none without the package; MIGRATION.md §12 has the counts).
The client follows the OpenTelemetry GenAI semantic conventions for client inference spans and metrics
(semantic-conventions v1.41: ``gen_ai.provider.name``, ``gen_ai.client.operation.duration``,
``gen_ai.client.token.usage``, ``gen_ai.client.operation.time_to_first_chunk``); project attributes live under
``tekton.``. See MIGRATION.md, "Observing the migration", for the attribute table.

Prompt and answer text are recorded only when ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` is ``true``
(the GenAI instrumentations' switch) or ``SPAN_ONLY``/``SPAN_AND_EVENT`` (opentelemetry-util-genai's modes that put
content on spans; any case); the auth token never. A stream's span is a child of the span current where the stream
was asked for, also when it is read later elsewhere; a cancelled call is ``tekton.cancelled``, not an error.
"""

from __future__ import annotations

from . import _telemetry
from ._telemetry import CAPTURE_CONTENT_ENV, INSTRUMENTATION_NAME, shim_call

__all__ = ["CAPTURE_CONTENT_ENV", "INSTRUMENTATION_NAME", "recording", "shim_call"]


def recording() -> bool:
    """Whether telemetry is on (OpenTelemetry installed and an SDK provider configured; one set later counts from
    then on). While it is off, ``shim_call`` records nothing, so a caller may skip the block altogether."""
    return _telemetry.state.api is not False and _telemetry.current() is not None

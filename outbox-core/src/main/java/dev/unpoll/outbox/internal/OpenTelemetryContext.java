package dev.unpoll.outbox.internal;

import dev.unpoll.contract.Headers;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import java.util.LinkedHashMap;
import java.util.Map;

/** Loaded by {@link TraceContext} only when OpenTelemetry's API is present. */
final class OpenTelemetryContext {
  private OpenTelemetryContext() {}

  static Map<String, String> with(Map<String, String> headers) {
    Context current = Context.current();
    if (!Span.fromContext(current).getSpanContext().isValid()) {
      return headers;
    }
    Map<String, String> out = new LinkedHashMap<>(headers);
    W3CTraceContextPropagator.getInstance()
        .inject(
            current,
            out,
            (carrier, key, value) -> {
              if ("traceparent".equals(key)) {
                carrier.put(Headers.TRACEPARENT, value);
              } else if ("tracestate".equals(key) && !value.isEmpty()) {
                carrier.put(Headers.TRACESTATE, value);
              }
            });
    return out;
  }
}

package dev.unpoll.outbox.internal;

import java.util.Map;

/**
 * Puts the current W3C trace context into an event's headers ({@code ce_traceparent}, {@code
 * ce_tracestate}) when OpenTelemetry's API is on the classpath and a span is current; otherwise the
 * headers are returned as they are. OpenTelemetry is an optional dependency: nothing here loads it
 * unless it is present.
 */
public final class TraceContext {
  private static final boolean PRESENT = present();

  private TraceContext() {}

  /** {@code headers} plus the current trace context, if there is one. */
  public static Map<String, String> with(Map<String, String> headers) {
    return PRESENT ? OpenTelemetryContext.with(headers) : headers;
  }

  private static boolean present() {
    try {
      Class.forName(
          "io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator",
          false,
          TraceContext.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}

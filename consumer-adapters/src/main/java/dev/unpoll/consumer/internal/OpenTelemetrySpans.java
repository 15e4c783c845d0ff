package dev.unpoll.consumer.internal;

import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.contract.Headers;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import java.sql.SQLException;
import java.util.List;

/** Loaded by {@link HandlerTracing} only when OpenTelemetry's API is present. */
final class OpenTelemetrySpans {
  private static final String INSTRUMENTATION = "dev.unpoll.consumer";

  private static final TextMapGetter<InboundEvent> GETTER =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(InboundEvent carrier) {
          return List.of("traceparent", "tracestate");
        }

        @Override
        public String get(InboundEvent carrier, String key) {
          if (carrier == null) {
            return null;
          }
          return switch (key) {
            case "traceparent" -> carrier.header(Headers.TRACEPARENT).orElse(null);
            case "tracestate" -> carrier.header(Headers.TRACESTATE).orElse(null);
            default -> null;
          };
        }
      };

  private OpenTelemetrySpans() {}

  static void handle(InboundEvent event, boolean link, HandlerTracing.Work work)
      throws SQLException {
    Context writer = W3CTraceContextPropagator.getInstance().extract(Context.root(), event, GETTER);
    SpanContext writerSpan = Span.fromContext(writer).getSpanContext();
    SpanBuilder b =
        GlobalOpenTelemetry.getTracer(INSTRUMENTATION)
            .spanBuilder(event.topic() + " process")
            .setSpanKind(SpanKind.CONSUMER)
            .setAttribute("messaging.system", "kafka")
            .setAttribute("messaging.operation.type", "process")
            .setAttribute("messaging.destination.name", event.topic())
            .setAttribute("messaging.kafka.offset", event.offset());
    event.header(Headers.ID).ifPresent(id -> b.setAttribute("messaging.message.id", id));
    if (writerSpan.isValid() && link) {
      b.setNoParent().addLink(writerSpan);
    } else if (writerSpan.isValid()) {
      b.setParent(writer);
    } else {
      b.setNoParent();
    }
    Span span = b.startSpan();
    try (Scope ignored = span.makeCurrent()) {
      work.run();
    } catch (SQLException | RuntimeException e) {
      span.recordException(e);
      span.setStatus(StatusCode.ERROR);
      throw e;
    } finally {
      span.end();
    }
  }
}

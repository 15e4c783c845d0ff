package dev.unpoll.consumer.internal;

import dev.unpoll.consumer.InboundEvent;
import java.sql.SQLException;

/**
 * Runs a handler inside an OpenTelemetry span whose parent (or link) is the trace context the event
 * carries ({@code ce_traceparent}, written by the outbox), when OpenTelemetry's API is on the
 * classpath. Without it, or without a context on the event, the handler simply runs (a legacy row
 * carries none). OpenTelemetry is an optional dependency: nothing here loads it unless present.
 */
public final class HandlerTracing {
  private static final boolean PRESENT = present();

  /** The handler's work. */
  @FunctionalInterface
  public interface Work {
    /** Runs it. */
    void run() throws SQLException;
  }

  private HandlerTracing() {}

  /**
   * Runs {@code work} in a span for {@code event}.
   *
   * @param link true: the writer's span is a link of a new trace; false: its child
   */
  public static void handle(InboundEvent event, boolean link, Work work) throws SQLException {
    if (PRESENT) {
      OpenTelemetrySpans.handle(event, link, work);
    } else {
      work.run();
    }
  }

  private static boolean present() {
    try {
      Class.forName(
          "io.opentelemetry.api.GlobalOpenTelemetry", false, HandlerTracing.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }
}

package dev.unpoll.consumer;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.util.Objects;

/**
 * Adapters that let a poller's row-handling code run unchanged on events: the handler receives the
 * row (a {@link LegacyRow}, or the caller's own type bound by Jackson) instead of the raw record.
 */
public final class LegacyRows {
  private LegacyRows() {}

  /**
   * The mapper used by default: snake_case columns map to camelCase properties ({@code order_id} →
   * {@code orderId}), java.time types are supported, and columns the type does not declare (the
   * relay also sends columns the poller never read) are ignored.
   */
  public static ObjectMapper defaultMapper() {
    return new ObjectMapper()
        .registerModule(new JavaTimeModule())
        .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false)
        .configure(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS, true)
        .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
  }

  /** Runs {@code handler} with the event's row. */
  public static EventHandler handler(LegacyRowHandler handler) {
    Objects.requireNonNull(handler, "handler");
    // numeric columns keep their exact digits (never rounded through a double)
    ObjectMapper mapper =
        new ObjectMapper()
            .configure(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS, true)
            .configure(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false);
    return (event, connection) -> handler.handle(LegacyRow.of(event, mapper), connection);
  }

  /**
   * Runs {@code handler} with the event's row bound to {@code type} by {@link #defaultMapper()}.
   */
  public static <T> EventHandler handler(Class<T> type, TypedRowHandler<T> handler) {
    return handler(type, defaultMapper(), handler);
  }

  /**
   * Runs {@code handler} with the event's row bound to {@code type} by {@code mapper}. A value that
   * does not bind is non-retryable: it goes to the dead-letter topic at once.
   */
  public static <T> EventHandler handler(
      Class<T> type, ObjectMapper mapper, TypedRowHandler<T> handler) {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(mapper, "mapper");
    Objects.requireNonNull(handler, "handler");
    return (event, connection) -> {
      if (event.value() == null) {
        throw new NonRetryableException(event.coordinates() + ": tombstone has no row");
      }
      T row;
      try {
        row = mapper.readValue(event.value(), type);
      } catch (IOException e) {
        throw new NonRetryableException(
            event.coordinates() + ": value does not bind to " + type.getName(), e);
      }
      handler.handle(row, connection);
    };
  }
}

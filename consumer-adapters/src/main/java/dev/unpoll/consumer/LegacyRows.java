package dev.unpoll.consumer;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.deser.std.StdScalarDeserializer;
import com.fasterxml.jackson.databind.deser.std.StringDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.IOException;
import java.util.Objects;

/**
 * Adapters that let a poller's row-handling code run unchanged on events: the handler receives the
 * row (a {@link LegacyRow}, or the caller's own type bound by Jackson) instead of the raw record.
 */
public final class LegacyRows {
  private LegacyRows() {}

  /** Reads strings as usual, and objects or arrays (json/jsonb columns) as their JSON text. */
  static final class JsonColumnAsText extends StdScalarDeserializer<String> {
    private static final long serialVersionUID = 1L;

    JsonColumnAsText() {
      super(String.class);
    }

    @Override
    public String deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      if (p.currentToken() == JsonToken.START_OBJECT || p.currentToken() == JsonToken.START_ARRAY) {
        return p.readValueAsTree().toString();
      }
      return StringDeserializer.instance.deserialize(p, ctxt);
    }
  }

  /**
   * The mapper used by default: snake_case columns map to camelCase properties ({@code order_id} →
   * {@code orderId}), java.time types are supported, columns the type does not declare (the relay
   * also sends columns the poller never read) are ignored, and a json/jsonb column (an object or
   * array on the wire) binds to a {@code String} field as its JSON text, as the poller read it with
   * {@code payload::text} (compact: no spaces, which a JSON parser does not notice).
   */
  public static ObjectMapper defaultMapper() {
    return new ObjectMapper()
        .registerModule(new JavaTimeModule())
        .registerModule(
            new SimpleModule("unpoll-json-columns-as-text")
                .addDeserializer(String.class, new JsonColumnAsText()))
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

package dev.unpoll.outbox;

/**
 * Turns an event's payload object into JSON text. Used for payloads given as objects ({@link
 * OutboxEvent.Builder#payload(Object)}); raw {@code String} and {@code byte[]} payloads never pass
 * through it.
 *
 * <p>Implementations must be thread-safe. Throw any runtime exception on failure: the writer wraps
 * it in an {@link OutboxException} naming the event type and id.
 */
@FunctionalInterface
public interface PayloadSerializer {

  /** Returns the JSON text of {@code payload} (an object, array, string, number...). */
  String toJson(Object payload);

  /**
   * A Jackson serializer with a default {@code ObjectMapper} (modules found on the classpath
   * registered, e.g. JSR-310 dates, dates written as ISO-8601 strings). Needs jackson-databind.
   *
   * @throws OutboxException if Jackson is not on the classpath
   */
  static PayloadSerializer jackson() {
    return dev.unpoll.outbox.internal.JacksonSupport.defaultSerializer();
  }

  /**
   * A Jackson serializer using the caller's {@code objectMapper} (typed as {@code Object} so that
   * this interface loads without Jackson; pass a {@code
   * com.fasterxml.jackson.databind.ObjectMapper}).
   *
   * @throws OutboxException if Jackson is missing or {@code objectMapper} is not an ObjectMapper
   */
  static PayloadSerializer jackson(Object objectMapper) {
    return dev.unpoll.outbox.internal.JacksonSupport.serializer(objectMapper);
  }

  /**
   * A serializer that refuses every object payload: for writers that publish only raw String or
   * byte[] payloads and have no Jackson on the classpath.
   */
  static PayloadSerializer none() {
    return payload -> {
      throw new OutboxException(
          "no PayloadSerializer is configured and Jackson is not on the classpath: add"
              + " jackson-databind, set Outbox.builder().serializer(...), or give the payload as"
              + " a String/byte[] with a content type");
    };
  }
}

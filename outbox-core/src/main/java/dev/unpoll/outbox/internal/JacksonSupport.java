package dev.unpoll.outbox.internal;

import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.PayloadSerializer;

/**
 * Finds Jackson without linking to it, so the module loads on a classpath without Jackson; the
 * Jackson code itself is in {@link JacksonPayloadSerializer}.
 */
public final class JacksonSupport {
  private static final String OBJECT_MAPPER = "com.fasterxml.jackson.databind.ObjectMapper";

  private JacksonSupport() {}

  /** Whether jackson-databind is on the classpath of this module. */
  public static boolean available() {
    try {
      Class.forName(OBJECT_MAPPER, false, JacksonSupport.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  /** Jackson with a default ObjectMapper; fails clearly without Jackson. */
  public static PayloadSerializer defaultSerializer() {
    requireJackson();
    return JacksonPayloadSerializer.withDefaultMapper();
  }

  /** Jackson with the caller's ObjectMapper. */
  public static PayloadSerializer serializer(Object objectMapper) {
    requireJackson();
    return JacksonPayloadSerializer.of(objectMapper);
  }

  private static void requireJackson() {
    if (!available()) {
      throw new OutboxException(
          "PayloadSerializer.jackson(): jackson-databind is not on the classpath; add"
              + " com.fasterxml.jackson.core:jackson-databind or configure another"
              + " PayloadSerializer");
    }
  }
}

package dev.unpoll.outbox.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.unpoll.outbox.OutboxException;
import dev.unpoll.outbox.PayloadSerializer;

/**
 * {@link PayloadSerializer} on a Jackson {@link ObjectMapper}. Loaded only when Jackson is present.
 */
final class JacksonPayloadSerializer implements PayloadSerializer {
  private final ObjectMapper mapper;

  private JacksonPayloadSerializer(ObjectMapper mapper) {
    this.mapper = mapper;
  }

  static PayloadSerializer withDefaultMapper() {
    ObjectMapper mapper = new ObjectMapper().findAndRegisterModules();
    mapper.disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
    return new JacksonPayloadSerializer(mapper);
  }

  static PayloadSerializer of(Object objectMapper) {
    if (!(objectMapper instanceof ObjectMapper)) {
      throw new OutboxException(
          "PayloadSerializer.jackson(objectMapper): expected a"
              + " com.fasterxml.jackson.databind.ObjectMapper, got "
              + (objectMapper == null ? "null" : objectMapper.getClass().getName()));
    }
    return new JacksonPayloadSerializer((ObjectMapper) objectMapper);
  }

  @Override
  public String toJson(Object payload) {
    try {
      return mapper.writeValueAsString(payload);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e.getOriginalMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "PayloadSerializer.jackson";
  }
}

package dev.unpoll.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.util.Map;
import java.util.UUID;

/**
 * The content of an outbox WAL message ({@code pg_logical_emit_message(true, prefix, content)}):
 * one JSON object, version {@value OutboxFormat#WAL_FORMAT_VERSION}. The outbox writes it with
 * {@link #encode}, the relay reads it with {@link #decode}; docs/outbox.md shows an example.
 */
public final class WalMessage {

  /** Field: the format version. */
  public static final String VERSION = "v";

  /** Field: the event id (a UUID). */
  public static final String ID = OutboxFormat.ID;

  /** Field: the aggregate type. */
  public static final String AGGREGATE_TYPE = OutboxFormat.AGGREGATE_TYPE;

  /** Field: the aggregate id. */
  public static final String AGGREGATE_ID = OutboxFormat.AGGREGATE_ID;

  /** Field: the event type. */
  public static final String TYPE = OutboxFormat.TYPE;

  /** Field: when the event occurred, ISO-8601 UTC. */
  public static final String OCCURRED_AT = "occurred_at";

  /** Field: the event's headers, an object of strings. */
  public static final String HEADERS = OutboxFormat.HEADERS;

  /** Field: the payload's media type. */
  public static final String CONTENT_TYPE = "content_type";

  /** Field: {@code base64} when the payload is a base64 string of bytes. */
  public static final String PAYLOAD_ENCODING = "payload_encoding";

  /** Field: the payload, any JSON value. */
  public static final String PAYLOAD = OutboxFormat.PAYLOAD;

  /** The media type assumed when {@link #CONTENT_TYPE} is absent. */
  public static final String DEFAULT_CONTENT_TYPE = "application/json";

  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .build();

  /** A message's fields as the relay reads them. */
  public record Decoded(
      String id,
      String aggregateType,
      String aggregateId,
      String type,
      JsonNode headers,
      String contentType,
      String payloadEncoding,
      JsonNode payload) {}

  /** A message this reader cannot read; {@link #version()} is -1 unless it was the version. */
  public static final class InvalidException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int version;

    InvalidException(String message, int version) {
      super(message);
      this.version = version;
    }

    /** The message's version when that is what this reader does not know, else -1. */
    public int version() {
      return version;
    }
  }

  private WalMessage() {}

  /**
   * The content of one event. {@code payloadJson} is JSON text (already checked) or null; {@code
   * base64} says the payload is a base64 string of bytes.
   */
  public static String encode(
      UUID id,
      String aggregateType,
      String aggregateId,
      String type,
      String occurredAt,
      Map<String, String> headers,
      String contentType,
      boolean base64,
      String payloadJson) {
    StringBuilder out =
        new StringBuilder(160 + (payloadJson == null ? 4 : payloadJson.length()))
            .append("{\"" + VERSION + "\":")
            .append(OutboxFormat.WAL_FORMAT_VERSION)
            .append(",\"" + ID + "\":\"")
            .append(id)
            .append("\",\"" + AGGREGATE_TYPE + "\":");
    JsonText.quote(out, aggregateType).append(",\"" + AGGREGATE_ID + "\":");
    JsonText.quote(out, aggregateId).append(",\"" + TYPE + "\":");
    JsonText.quote(out, type).append(",\"" + OCCURRED_AT + "\":");
    JsonText.quote(out, occurredAt).append(",\"" + HEADERS + "\":");
    JsonText.appendObject(out, headers).append(",\"" + CONTENT_TYPE + "\":");
    JsonText.quote(out, contentType);
    if (base64) {
      out.append(",\"" + PAYLOAD_ENCODING + "\":\"base64\"");
    }
    out.append(",\"" + PAYLOAD + "\":").append(payloadJson == null ? "null" : payloadJson);
    return out.append('}').toString();
  }

  /**
   * Reads a message's content.
   *
   * @throws InvalidException if it is not JSON, has another version, or lacks a required field
   */
  public static Decoded decode(byte[] content) throws InvalidException {
    JsonNode m;
    try {
      m = JSON.readTree(content);
    } catch (JsonProcessingException e) {
      throw new InvalidException("not JSON: " + e.getOriginalMessage(), -1);
    } catch (IOException e) {
      throw new InvalidException("not readable: " + e.getMessage(), -1);
    }
    if (m == null || !m.isObject()) {
      throw new InvalidException("not a JSON object", -1);
    }
    int v = m.path(VERSION).asInt(-1);
    if (v != OutboxFormat.WAL_FORMAT_VERSION) {
      throw new InvalidException(
          "has version "
              + m.path(VERSION)
              + "; this reader reads v="
              + OutboxFormat.WAL_FORMAT_VERSION,
          v);
    }
    return new Decoded(
        required(m, ID),
        required(m, AGGREGATE_TYPE),
        required(m, AGGREGATE_ID),
        required(m, TYPE),
        m.path(HEADERS),
        m.path(CONTENT_TYPE).asText(DEFAULT_CONTENT_TYPE),
        m.path(PAYLOAD_ENCODING).asText(""),
        m.path(PAYLOAD));
  }

  private static String required(JsonNode m, String field) throws InvalidException {
    JsonNode n = m.get(field);
    if (n == null || n.isNull() || !n.isValueNode()) {
      throw new InvalidException("field \"" + field + "\" is missing", -1);
    }
    return n.asText();
  }

  /** For tests and tools: {@code node} as compact JSON text. */
  static String text(JsonNode node) {
    try {
      return JSON.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}

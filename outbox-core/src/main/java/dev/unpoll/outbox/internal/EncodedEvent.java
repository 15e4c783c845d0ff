package dev.unpoll.outbox.internal;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/**
 * An event ready to write: payload already JSON (an object's JSON, a text as a JSON string, bytes
 * as a base64 JSON string), occurred-at resolved. Renders the table's headers column and the WAL
 * message content exactly as {@code docs/reference/event-format.md} defines them.
 *
 * @param payloadJson JSON text for the payload column / field, or null for no payload
 * @param json whether the payload is JSON (content type application/json or +json)
 * @param base64 whether {@code payloadJson} is a base64 JSON string of a binary payload
 */
public record EncodedEvent(
    UUID id,
    String aggregateType,
    String aggregateId,
    String type,
    Instant occurredAt,
    Map<String, String> headers,
    String contentType,
    String payloadJson,
    boolean json,
    boolean base64) {

  /** Format version of the WAL message content. */
  public static final int WAL_FORMAT_VERSION = 1;

  /** Header carrying the payload's encoding in the table strategy. */
  public static final String PAYLOAD_ENCODING_HEADER = "unpoll_payload_encoding";

  private static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /**
   * The headers column: the caller's headers, plus {@code content-type} when the payload is not
   * JSON and {@code unpoll_payload_encoding: base64} for binary payloads.
   */
  public String tableHeadersJson() {
    if (json && !base64) {
      return Json.object(headers);
    }
    Map<String, String> all = new LinkedHashMap<>(headers);
    all.put("content-type", contentType);
    if (base64) {
      all.put(PAYLOAD_ENCODING_HEADER, "base64");
    }
    return Json.object(all);
  }

  /** The WAL message content: one JSON object. */
  public String walMessageJson() {
    StringBuilder out =
        new StringBuilder(160 + (payloadJson == null ? 4 : payloadJson.length()))
            .append("{\"v\":")
            .append(WAL_FORMAT_VERSION)
            .append(",\"id\":\"")
            .append(id)
            .append("\",\"aggregatetype\":");
    Json.quote(out, aggregateType).append(",\"aggregateid\":");
    Json.quote(out, aggregateId).append(",\"type\":");
    Json.quote(out, type).append(",\"occurred_at\":\"");
    out.append(ISO_MILLIS.format(occurredAt)).append("\",\"headers\":");
    Json.appendObject(out, headers).append(",\"content_type\":");
    Json.quote(out, contentType);
    if (base64) {
      out.append(",\"payload_encoding\":\"base64\"");
    }
    out.append(",\"payload\":").append(payloadJson == null ? "null" : payloadJson);
    return out.append('}').toString();
  }
}

package dev.unpoll.outbox.internal;

import dev.unpoll.contract.Headers;
import dev.unpoll.contract.OutboxFormat;
import dev.unpoll.contract.WalMessage;
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
  public static final int WAL_FORMAT_VERSION = OutboxFormat.WAL_FORMAT_VERSION;

  /** Header carrying the payload's encoding in the table strategy. */
  public static final String PAYLOAD_ENCODING_HEADER = Headers.PAYLOAD_ENCODING;

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

  /** The WAL message content: one JSON object ({@link WalMessage#encode}). */
  public String walMessageJson() {
    return WalMessage.encode(
        id,
        aggregateType,
        aggregateId,
        type,
        ISO_MILLIS.format(occurredAt),
        headers,
        contentType,
        base64,
        payloadJson);
  }
}

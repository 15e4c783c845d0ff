package dev.unpoll.outbox;

import dev.unpoll.contract.Headers;
import dev.unpoll.outbox.internal.ContentTypes;
import dev.unpoll.outbox.internal.Json;
import dev.unpoll.outbox.internal.UuidV7;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * One event to publish, immutable. Built with {@link #builder()}; {@code build()} rejects a missing
 * aggregate type, aggregate id or event type and names every problem at once.
 *
 * <p>The payload is one of:
 *
 * <ul>
 *   <li>an object, serialized to JSON by the writer's {@link PayloadSerializer} (Jackson by
 *       default) at publish time;
 *   <li>a {@code String} with a content type: JSON text when the type is JSON ({@code
 *       application/json} or {@code ...+json}), checked for syntax here; otherwise text, stored as
 *       a JSON string;
 *   <li>a {@code byte[]} with a content type, stored base64-encoded;
 *   <li>none ({@code null}).
 * </ul>
 *
 * <p>The id is a fresh UUIDv7 (time-ordered) unless the caller sets one, e.g. an idempotency key it
 * already has. It becomes the {@code ce_id} the consumers de-duplicate on.
 */
public final class OutboxEvent {
  /** The longest aggregate type, aggregate id and event type: the columns are varchar(255). */
  public static final int MAX_NAME_LENGTH = 255;

  /** Content type of JSON payloads. */
  public static final String APPLICATION_JSON = "application/json";

  /**
   * Header names the writer sets itself (from the payload's content type and encoding), so callers
   * may not.
   */
  public static final List<String> RESERVED_HEADERS =
      List.of(Headers.CONTENT_TYPE, Headers.PAYLOAD_ENCODING);

  /**
   * Header name prefixes the relay owns: CloudEvents attributes ({@code ce_id}, {@code ce_type},
   * ...) and unpoll's own ({@code unpoll_lsn}, ...). A caller's header with one of them would
   * shadow the idempotency key or the ordering data on the wire, so the builder rejects it.
   */
  public static final List<String> RESERVED_HEADER_PREFIXES = Headers.RESERVED_PREFIXES;

  private final UUID id;
  private final String aggregateType;
  private final String aggregateId;
  private final String type;
  private final Object payload;
  private final String contentType;
  private final Map<String, String> headers;
  private final Instant occurredAt;
  private final String payloadKind;

  private OutboxEvent(Builder b) {
    this.id = b.id != null ? b.id : UuidV7.next();
    this.aggregateType = b.aggregateType;
    this.aggregateId = b.aggregateId;
    this.type = b.type;
    this.payload = b.payload instanceof byte[] ? ((byte[]) b.payload).clone() : b.payload;
    this.contentType = b.contentType;
    this.headers = Collections.unmodifiableMap(new LinkedHashMap<>(b.headers));
    this.occurredAt = b.occurredAt;
    this.payloadKind = b.payload == null ? "none" : b.payloadKind;
  }

  /** A builder for one event. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * An event whose payload object is serialized to JSON by the writer's serializer.
   *
   * @throws OutboxException if an argument is missing
   */
  public static OutboxEvent of(
      String aggregateType, String aggregateId, String type, Object payload) {
    return builder().aggregate(aggregateType, aggregateId).type(type).payload(payload).build();
  }

  /** The event id: a UUIDv7 unless set by the caller. */
  public UUID id() {
    return id;
  }

  /** The aggregate type, e.g. {@code order}: routes the Kafka topic. */
  public String aggregateType() {
    return aggregateType;
  }

  /** The aggregate id, e.g. {@code 42}: the Kafka record key. */
  public String aggregateId() {
    return aggregateId;
  }

  /** The event type, e.g. {@code OrderCreated}. */
  public String type() {
    return type;
  }

  /**
   * The payload as given: an object to serialize, a String, a copy of the byte[], or null. A byte[]
   * is copied again on every call.
   */
  public Object payload() {
    return payload instanceof byte[] ? ((byte[]) payload).clone() : payload;
  }

  /**
   * The payload's content type: {@code application/json} for object payloads and no payload,
   * otherwise the one given with the String or byte[].
   */
  public String contentType() {
    return contentType;
  }

  /** The caller's headers (string to string), in insertion order. */
  public Map<String, String> headers() {
    return headers;
  }

  /** When the event occurred; empty means "when it is published", by the writer's clock. */
  public Optional<Instant> occurredAt() {
    return Optional.ofNullable(occurredAt);
  }

  /** A copy with another id. */
  public OutboxEvent withId(UUID newId) {
    return toBuilder().id(Objects.requireNonNull(newId, "id")).build();
  }

  /** A copy with another occurred-at instant. */
  public OutboxEvent withOccurredAt(Instant instant) {
    return toBuilder().occurredAt(Objects.requireNonNull(instant, "occurredAt")).build();
  }

  private Builder toBuilder() {
    Builder b = new Builder();
    b.id = id;
    b.aggregateType = aggregateType;
    b.aggregateId = aggregateId;
    b.type = type;
    b.payload = payload;
    b.contentType = contentType;
    b.payloadKind = payloadKind;
    b.headers.putAll(headers);
    b.occurredAt = occurredAt;
    return b;
  }

  /** Coordinates only: never the payload. */
  @Override
  public String toString() {
    return "OutboxEvent[id="
        + id
        + ", aggregate="
        + aggregateType
        + "/"
        + aggregateId
        + ", type="
        + type
        + "]";
  }

  /** Builds an {@link OutboxEvent}. Not thread-safe; {@link #build()} may be called repeatedly. */
  public static final class Builder {
    private UUID id;
    private String aggregateType;
    private String aggregateId;
    private String type;
    private Object payload;
    private String contentType = APPLICATION_JSON;
    private String payloadKind = "none";
    private final Map<String, String> headers = new LinkedHashMap<>();
    private final List<String> headerProblems = new ArrayList<>();
    private Instant occurredAt;

    private Builder() {}

    /** The event id; default a new UUIDv7 per built event. Set it to your idempotency key. */
    public Builder id(UUID id) {
      this.id = id;
      return this;
    }

    /** Aggregate type and id in one call. */
    public Builder aggregate(String aggregateType, String aggregateId) {
      return aggregateType(aggregateType).aggregateId(aggregateId);
    }

    /** The aggregate type, e.g. {@code order}; required. */
    public Builder aggregateType(String aggregateType) {
      this.aggregateType = aggregateType;
      return this;
    }

    /** The aggregate id, e.g. {@code 42}; required. */
    public Builder aggregateId(String aggregateId) {
      this.aggregateId = aggregateId;
      return this;
    }

    /** The event type, e.g. {@code OrderCreated}; required. */
    public Builder type(String type) {
      this.type = type;
      return this;
    }

    /**
     * An object payload, serialized to JSON by the writer's {@link PayloadSerializer}. A String or
     * byte[] passed here is treated as an object too (a String becomes a JSON string); use the
     * two-argument forms for raw payloads.
     */
    public Builder payload(Object payload) {
      this.payload = payload;
      this.contentType = APPLICATION_JSON;
      this.payloadKind = payload == null ? "none" : "object";
      return this;
    }

    /**
     * A raw text payload with its content type: JSON text when the type is JSON ({@code
     * application/json}, {@code application/cloudevents+json}, ...), otherwise text.
     */
    public Builder payload(String payload, String contentType) {
      this.payload = payload;
      this.contentType = contentType;
      this.payloadKind = "string";
      return this;
    }

    /** A raw binary payload with its content type; stored base64-encoded. */
    public Builder payload(byte[] payload, String contentType) {
      this.payload = payload == null ? null : payload.clone();
      this.contentType = contentType;
      this.payloadKind = "bytes";
      return this;
    }

    /** Adds a header; value is a string, as on Kafka. */
    public Builder header(String name, String value) {
      if (name == null || name.isEmpty()) {
        headerProblems.add("header name: must not be null or empty");
      } else if (RESERVED_HEADERS.contains(name.toLowerCase(java.util.Locale.ROOT))) {
        headerProblems.add(
            "header '"
                + name
                + "': set by the outbox from the payload's content type; give the content type"
                + " with payload(String|byte[], contentType) instead");
      } else if (RESERVED_HEADER_PREFIXES.stream()
          .anyMatch(p -> name.toLowerCase(java.util.Locale.ROOT).startsWith(p))) {
        headerProblems.add(
            "header '"
                + name
                + "': names starting with "
                + String.join(" or ", RESERVED_HEADER_PREFIXES)
                + " are set by the relay (CloudEvents attributes, ordering data); choose another"
                + " name");
      } else if (value == null) {
        headerProblems.add("header '" + name + "': value must not be null");
      } else {
        headers.put(name, value);
      }
      return this;
    }

    /** Adds every entry of {@code map} as a header. */
    public Builder headers(Map<String, String> map) {
      Objects.requireNonNull(map, "headers").forEach(this::header);
      return this;
    }

    /** When the event occurred; default: when it is published, by the writer's clock. */
    public Builder occurredAt(Instant occurredAt) {
      this.occurredAt = occurredAt;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @throws OutboxException naming every missing or invalid field
     */
    public OutboxEvent build() {
      List<String> problems = new ArrayList<>();
      requireName(problems, "aggregateType", aggregateType);
      requireName(problems, "aggregateId", aggregateId);
      requireName(problems, "type", type);
      problems.addAll(headerProblems);
      noNul(problems, "aggregateType", aggregateType);
      noNul(problems, "aggregateId", aggregateId);
      noNul(problems, "type", type);
      headers.forEach(
          (k, v) -> {
            noNul(problems, "header name '" + k.replace('\0', '?') + "'", k);
            noNul(problems, "header '" + k.replace('\0', '?') + "'", v);
          });
      if ("string".equals(payloadKind) && payload != null) {
        noNul(problems, "payload", (String) payload);
      }
      if ("string".equals(payloadKind) || "bytes".equals(payloadKind)) {
        if (payload == null) {
          problems.add("payload: a raw " + payloadKind + " payload must not be null");
        }
        if (contentType == null || contentType.isBlank()) {
          problems.add(
              "contentType: required with a raw String/byte[] payload (e.g. text/plain,"
                  + " application/json, application/octet-stream)");
        } else if ("string".equals(payloadKind)
            && payload != null
            && ContentTypes.isJson(contentType)) {
          String error = Json.syntaxError((String) payload);
          if (error != null) {
            problems.add(
                "payload: content type "
                    + contentType
                    + " but the text is not valid JSON ("
                    + error
                    + ")");
          }
        }
      }
      if (!problems.isEmpty()) {
        throw new OutboxException(
            "invalid outbox event"
                + (type != null ? " of type " + type : "")
                + ": "
                + String.join("; ", problems));
      }
      return new OutboxEvent(this);
    }

    private static void noNul(List<String> problems, String field, String value) {
      if (value != null && value.indexOf('\0') >= 0) {
        problems.add(
            field
                + ": contains U+0000, which PostgreSQL text and jsonb cannot store"
                + " (send such data as a byte[] payload)");
      }
    }

    private static void requireName(List<String> problems, String field, String value) {
      if (value == null || value.isBlank()) {
        problems.add(field + ": required, was " + (value == null ? "null" : "blank"));
      } else if (value.length() > MAX_NAME_LENGTH) {
        problems.add(
            field
                + ": at most "
                + MAX_NAME_LENGTH
                + " characters (the column is varchar(255)), was "
                + value.length());
      }
    }
  }

  /** How the payload was given: "none", "object", "string" or "bytes". Used by the writer. */
  String payloadKind() {
    return payloadKind;
  }
}

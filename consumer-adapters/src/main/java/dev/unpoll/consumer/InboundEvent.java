package dev.unpoll.consumer;

import dev.unpoll.contract.Headers;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * One Kafka record as a handler sees it: coordinates, raw key and value, and headers. Immutable
 * apart from the byte arrays, which handlers must not modify.
 */
public final class InboundEvent {
  /** Header carrying the idempotency key (see docs/reference/event-format.md). */
  public static final String CE_ID = Headers.ID;

  /** Header carrying the commit time of the source transaction. */
  public static final String CE_TIME = Headers.TIME;

  /**
   * Header carrying the source transaction id (decimal); the dual-run claim uses it to tell a row
   * whose commit is not visible yet from a deleted one.
   */
  public static final String UNPOLL_TXID = Headers.TXID;

  /** Header carrying the event type. */
  public static final String CE_TYPE = Headers.TYPE;

  private final String topic;
  private final int partition;
  private final long offset;
  private final byte[] key;
  private final byte[] value;
  private final List<Header> headers;

  private InboundEvent(
      String topic, int partition, long offset, byte[] key, byte[] value, List<Header> headers) {
    this.topic = Objects.requireNonNull(topic, "topic");
    this.partition = partition;
    this.offset = offset;
    this.key = key;
    this.value = value;
    this.headers = Collections.unmodifiableList(headers);
  }

  /**
   * Wraps a record. Keys and values that are {@code byte[]} are taken as they are, strings as
   * UTF-8, anything else through {@code toString()}.
   */
  public static InboundEvent of(ConsumerRecord<?, ?> record) {
    List<Header> headers = new ArrayList<>();
    record.headers().forEach(headers::add);
    return new InboundEvent(
        record.topic(),
        record.partition(),
        record.offset(),
        bytes(record.key()),
        bytes(record.value()),
        headers);
  }

  /** An event built by hand, for tests and for adapters of other transports. */
  public static InboundEvent of(
      String topic, int partition, long offset, byte[] key, byte[] value, List<Header> headers) {
    return new InboundEvent(topic, partition, offset, key, value, new ArrayList<>(headers));
  }

  private static byte[] bytes(Object o) {
    if (o == null) {
      return null;
    }
    if (o instanceof byte[] b) {
      return b;
    }
    return o.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The topic the record came from. */
  public String topic() {
    return topic;
  }

  /** The partition the record came from. */
  public int partition() {
    return partition;
  }

  /** The record's offset. */
  public long offset() {
    return offset;
  }

  /** The record key, or null. */
  public byte[] key() {
    return key;
  }

  /** The record key as UTF-8 text, or null. */
  public String keyAsString() {
    return key == null ? null : new String(key, StandardCharsets.UTF_8);
  }

  /** The record value, or null for a tombstone. */
  public byte[] value() {
    return value;
  }

  /** The record value as UTF-8 text, or null. */
  public String valueAsString() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  /** Every header in record order. */
  public List<Header> headers() {
    return headers;
  }

  /** The last header of that name as UTF-8 text. */
  public Optional<String> header(String name) {
    for (int i = headers.size() - 1; i >= 0; i--) {
      Header h = headers.get(i);
      if (h.key().equals(name)) {
        return h.value() == null
            ? Optional.empty()
            : Optional.of(new String(h.value(), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  /** The {@code ce_time} header parsed, if present and valid ISO-8601. */
  public Optional<Instant> eventTime() {
    return header(CE_TIME)
        .flatMap(
            t -> {
              try {
                return Optional.of(Instant.parse(t));
              } catch (DateTimeParseException e) {
                return Optional.empty();
              }
            });
  }

  /** {@code topic-partition@offset}, for logs and error messages. */
  public String coordinates() {
    return topic + "-" + partition + "@" + offset;
  }

  @Override
  public String toString() {
    return "InboundEvent[" + coordinates() + "]";
  }
}

package dev.unpoll.consumer;

import dev.unpoll.contract.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/**
 * One record of a dead-letter topic, as {@link DeadLetterTopic} read it: where it is, why it failed
 * ({@link DeadLetterHeaders}, or Spring's {@code kafka_dlt-*} headers when unpoll's are absent) and
 * the original record's key, headers and value. {@link #toString()} never shows the value.
 */
public final class DeadLetter {
  /** Prefix of the failure headers unpoll writes ({@link DeadLetterHeaders}). */
  static final String UNPOLL_PREFIX = "unpoll_dlt_";

  /** Prefix of the failure headers Spring's {@code DeadLetterPublishingRecoverer} writes. */
  static final String SPRING_PREFIX = "kafka_dlt-";

  private static final String SPRING_TOPIC = "kafka_dlt-original-topic";
  private static final String SPRING_PARTITION = "kafka_dlt-original-partition";
  private static final String SPRING_OFFSET = "kafka_dlt-original-offset";
  private static final String SPRING_GROUP = "kafka_dlt-original-consumer-group";
  private static final String SPRING_EXCEPTION = "kafka_dlt-exception-fqcn";
  private static final String SPRING_MESSAGE = "kafka_dlt-exception-message";

  private final String topic;
  private final int partition;
  private final long offset;
  private final Instant time;
  private final byte[] key;
  private final byte[] value;
  private final List<Header> headers;

  private DeadLetter(ConsumerRecord<byte[], byte[]> r) {
    this.topic = r.topic();
    this.partition = r.partition();
    this.offset = r.offset();
    this.time = Instant.ofEpochMilli(r.timestamp());
    this.key = r.key();
    this.value = r.value();
    List<Header> copy = new ArrayList<>();
    r.headers().forEach(copy::add);
    this.headers = List.copyOf(copy);
  }

  static DeadLetter of(ConsumerRecord<byte[], byte[]> r) {
    return new DeadLetter(r);
  }

  /** The dead-letter topic. */
  public String topic() {
    return topic;
  }

  /** Partition in the dead-letter topic. */
  public int partition() {
    return partition;
  }

  /** Offset in the dead-letter topic. */
  public long offset() {
    return offset;
  }

  /** {@code partition:offset} in the dead-letter topic, as {@code --offset} takes it. */
  public String position() {
    return partition + ":" + offset;
  }

  /** The record's timestamp: when it was dead-lettered. */
  public Instant time() {
    return time;
  }

  /** The original key, or null. */
  public byte[] key() {
    return key == null ? null : key.clone();
  }

  /** The original key as UTF-8 text, or null. */
  public String keyAsString() {
    return key == null ? null : new String(key, StandardCharsets.UTF_8);
  }

  /** The original value (the payload; may be sensitive), or null. */
  public byte[] value() {
    return value == null ? null : value.clone();
  }

  /** The original value as UTF-8 text (the payload; may be sensitive), or null. */
  public String valueAsString() {
    return value == null ? null : new String(value, StandardCharsets.UTF_8);
  }

  /** Every header of the record, in order: the original ones and the failure headers. */
  public List<Header> headers() {
    return headers;
  }

  /** The last value of a header as UTF-8 text. */
  public Optional<String> header(String name) {
    for (int i = headers.size() - 1; i >= 0; i--) {
      Header h = headers.get(i);
      if (h.key().equals(name)) {
        return Optional.ofNullable(h.value()).map(v -> new String(v, StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  private Optional<Header> last(String name) {
    for (int i = headers.size() - 1; i >= 0; i--) {
      if (headers.get(i).key().equals(name)) {
        return Optional.of(headers.get(i));
      }
    }
    return Optional.empty();
  }

  /** The original record's headers: every header but the failure headers. */
  public List<Header> originalHeaders() {
    return headers.stream().filter(h -> !isFailureHeader(h.key())).toList();
  }

  /** The idempotency key ({@code ce_id}) of the original record, if it has one. */
  public Optional<String> idempotencyKey() {
    return header(Headers.ID);
  }

  /** The topic the record failed on. */
  public Optional<String> originalTopic() {
    return header(DeadLetterHeaders.ORIGINAL_TOPIC).or(() -> header(SPRING_TOPIC));
  }

  /** Partition of the original record, if a header says. */
  public Optional<Integer> originalPartition() {
    Optional<String> text = header(DeadLetterHeaders.ORIGINAL_PARTITION);
    if (text.isPresent()) {
      return parse(text.get()).map(Long::intValue);
    }
    return last(SPRING_PARTITION)
        .filter(h -> h.value() != null && h.value().length == Integer.BYTES)
        .map(h -> ByteBuffer.wrap(h.value()).getInt());
  }

  /** Offset of the original record, if a header says. */
  public Optional<Long> originalOffset() {
    Optional<String> text = header(DeadLetterHeaders.ORIGINAL_OFFSET);
    if (text.isPresent()) {
      return parse(text.get());
    }
    return last(SPRING_OFFSET)
        .filter(h -> h.value() != null && h.value().length == Long.BYTES)
        .map(h -> ByteBuffer.wrap(h.value()).getLong());
  }

  /** The consumer group that gave up on the record. */
  public Optional<String> consumerGroup() {
    return header(DeadLetterHeaders.CONSUMER_GROUP).or(() -> header(SPRING_GROUP));
  }

  /** Fully qualified class name of the failure; {@code unknown} when no header names it. */
  public String exceptionClass() {
    return header(DeadLetterHeaders.EXCEPTION_CLASS)
        .or(() -> header(SPRING_EXCEPTION))
        .orElse("unknown");
  }

  /** The failure's message (it may quote data the handler put in it); empty when none. */
  public String exceptionMessage() {
    return header(DeadLetterHeaders.EXCEPTION_MESSAGE).or(() -> header(SPRING_MESSAGE)).orElse("");
  }

  /** How many times the record was tried, if a header says. */
  public Optional<Integer> attempts() {
    return header(DeadLetterHeaders.ATTEMPTS).flatMap(DeadLetter::parse).map(Long::intValue);
  }

  /**
   * The failure headers as text, in record order: unpoll's ({@link DeadLetterHeaders}) and Spring's
   * {@code kafka_dlt-*} (its binary partition, offset and timestamp decoded as numbers).
   */
  public Map<String, String> failureHeaders() {
    Map<String, String> m = new LinkedHashMap<>();
    for (Header h : headers) {
      if (isFailureHeader(h.key())) {
        m.put(h.key(), display(h));
      }
    }
    return m;
  }

  /** Whether {@code name} is a header a dead-letter publisher adds (unpoll's or Spring's). */
  public static boolean isFailureHeader(String name) {
    return name.startsWith(UNPOLL_PREFIX) || name.startsWith(SPRING_PREFIX);
  }

  private static String display(Header h) {
    byte[] v = h.value();
    if (v == null) {
      return "null";
    }
    if (h.key().startsWith(SPRING_PREFIX)) {
      if (h.key().endsWith("-partition") && v.length == Integer.BYTES) {
        return Integer.toString(ByteBuffer.wrap(v).getInt());
      }
      if ((h.key().endsWith("-offset") || h.key().endsWith("-timestamp"))
          && v.length == Long.BYTES) {
        return Long.toString(ByteBuffer.wrap(v).getLong());
      }
    }
    String text = new String(v, StandardCharsets.UTF_8);
    if (!java.util.Arrays.equals(text.getBytes(StandardCharsets.UTF_8), v)) {
      return "base64:" + Base64.getEncoder().encodeToString(v);
    }
    return text;
  }

  private static Optional<Long> parse(String s) {
    try {
      return Optional.of(Long.parseLong(s.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Coordinates, key and failure; never the value. */
  @Override
  public String toString() {
    return topic
        + "-"
        + partition
        + "@"
        + offset
        + " key="
        + keyAsString()
        + " group="
        + consumerGroup().orElse("?")
        + " exception="
        + exceptionClass();
  }
}

package dev.unpoll.migration.engine;

import dev.unpoll.migration.TailedEvent;
import dev.unpoll.migration.internal.Kafka;
import dev.unpoll.migration.internal.Settings;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InterruptException;
import org.apache.kafka.common.header.Header;

/**
 * A topic's records as they arrive ({@code unpoll tail}), read without a consumer group: nothing is
 * committed. Open it with {@link Migrations#tail}; close it when done.
 */
public final class EventTail implements AutoCloseable {
  private final KafkaConsumer<byte[], byte[]> consumer;

  private EventTail(KafkaConsumer<byte[], byte[]> consumer) {
    this.consumer = consumer;
  }

  static EventTail open(Settings s, String topic, boolean fromBeginning) {
    List<TopicPartition> parts = Kafka.partitions(s, topic);
    KafkaConsumer<byte[], byte[]> consumer = Kafka.consumer(s);
    try {
      consumer.assign(parts);
      if (fromBeginning) {
        consumer.seekToBeginning(parts);
      } else {
        consumer.seekToEnd(parts);
        parts.forEach(tp -> consumer.position(tp, Kafka.TIMEOUT));
      }
    } catch (InterruptException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      consumer.close();
      throw e;
    }
    return new EventTail(consumer);
  }

  /**
   * The records that arrive within {@code timeout}, in order per partition; none when the thread is
   * interrupted (its interrupt flag stays set).
   */
  public List<TailedEvent> poll(Duration timeout) {
    List<TailedEvent> events = new ArrayList<>();
    if (Thread.currentThread().isInterrupted()) {
      return events;
    }
    try {
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
        events.add(event(r));
      }
    } catch (InterruptException e) {
      Thread.currentThread().interrupt();
    }
    return events;
  }

  @Override
  public void close() {
    try {
      consumer.close();
    } catch (InterruptException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static TailedEvent event(ConsumerRecord<byte[], byte[]> r) {
    List<TailedEvent.Header> headers = new ArrayList<>();
    for (Header h : r.headers()) {
      headers.add(new TailedEvent.Header(h.key(), text(h.value())));
    }
    return new TailedEvent(
        r.topic(),
        r.partition(),
        r.offset(),
        Instant.ofEpochMilli(r.timestamp()),
        text(r.key()),
        headers,
        text(r.value()));
  }

  private static String text(byte[] bytes) {
    return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
  }
}

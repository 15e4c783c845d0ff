package dev.unpoll.consumer;

import dev.unpoll.testkit.TestKafka;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** Records with the headers of docs/reference/event-format.md, and Kafka helpers for tests. */
public final class TestEvents {
  private TestEvents() {}

  /** A record as the relay writes it; {@code ceId} null leaves the header out. */
  public static ProducerRecord<byte[], byte[]> event(
      String topic, String key, String ceId, String jsonValue) {
    return event(topic, key, ceId, jsonValue, Instant.now());
  }

  /** A record with a given {@code ce_time}. */
  public static ProducerRecord<byte[], byte[]> event(
      String topic, String key, String ceId, String jsonValue, Instant ceTime) {
    List<Header> headers = new ArrayList<>();
    headers.add(header("ce_specversion", "1.0"));
    if (ceId != null) {
      headers.add(header("ce_id", ceId));
    }
    headers.add(header("ce_source", "/unpoll/test/public.orders"));
    headers.add(header("ce_type", "public.orders.inserted"));
    headers.add(header("ce_time", ceTime.toString()));
    headers.add(header("content-type", "application/json"));
    return new ProducerRecord<>(
        topic, null, utf8(key), jsonValue == null ? null : utf8(jsonValue), headers);
  }

  public static Header header(String name, String value) {
    return new RecordHeader(name, utf8(value));
  }

  public static byte[] utf8(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  public static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** The last value of a header, as text. */
  public static String headerValue(Iterable<Header> headers, String name) {
    String v = null;
    for (Header h : headers) {
      if (h.key().equals(name)) {
        v = text(h.value());
      }
    }
    return v;
  }

  /** Sends every record and waits for all acknowledgements. */
  public static void send(TestKafka kafka, List<ProducerRecord<byte[], byte[]>> records) {
    try (KafkaProducer<byte[], byte[]> producer = kafka.newProducer()) {
      List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
      records.forEach(r -> acks.add(producer.send(r)));
      for (java.util.concurrent.Future<?> f : acks) {
        f.get(30, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("send failed", e);
    }
  }

  /** The group's committed offset on partition 0 of {@code topic}, or -1 if none. */
  public static long committedOffset(TestKafka kafka, String group, String topic, int partition) {
    try {
      OffsetAndMetadata o =
          kafka
              .admin()
              .listConsumerGroupOffsets(group)
              .partitionsToOffsetAndMetadata()
              .get(30, TimeUnit.SECONDS)
              .get(new TopicPartition(topic, partition));
      return o == null ? -1 : o.offset();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  /** End offset of a partition. */
  public static long endOffset(TestKafka kafka, String topic, int partition) {
    try {
      TopicPartition tp = new TopicPartition(topic, partition);
      return kafka
          .admin()
          .listOffsets(java.util.Map.of(tp, OffsetSpec.latest()))
          .partitionResult(tp)
          .get(30, TimeUnit.SECONDS)
          .offset();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }
}

package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.DeadLetterHeaders;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.Topics;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 6: poison records among the relay's events while the writers go on: a value that
 * is not JSON, a record without {@code ce_id}, and an event whose handler always throws. Each
 * reaches the dead-letter topic with the failure in its headers, and its partition moves on: every
 * committed row and event after it is applied exactly once.
 */
@ExtendWith(UnpollStackExtension.class)
class PoisonRecordsIT {

  @Test
  void poisonRecordsReachTheDeadLetterTopicAndThePartitionMovesOn(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "poison")) {
      h.startRelay();
      h.startConsumer();
      h.load.start();
      for (int i = 0; i < Harness.INJECTIONS; i++) {
        long warm = h.nextPoint(200, 400);
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= warm);
        h.injected();
        try (KafkaProducer<byte[], byte[]> producer = kafka.newProducer()) {
          // all three on partition 0 of the outbox topic, between the relay's events
          producer.send(poison(h.outboxTopic, "fi.poison:not-json-" + i, "{not json")).get();
          producer.send(poison(h.outboxTopic, null, "{\"k\":\"poison\",\"seq\":1}")).get();
          producer
              .send(
                  poison(
                      h.outboxTopic,
                      "fi.poison:throws-" + i,
                      "{\"k\":\"p\",\"seq\":1,\"throw\":true}"))
              .get();
        }
        h.released();
      }
      long after = h.nextPoint(200, 400);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= after);

      Checker.Report r =
          h.settleAndCheck("6. poison records (not JSON, no ce_id, a handler that always throws)");
      assertThat(r.committed()).isPositive();

      List<ConsumerRecord<byte[], byte[]>> dead;
      try (TopicReader reader = new TopicReader(kafka, Topics.deadLetterTopic(h.outboxTopic))) {
        // poll() returns every record read so far
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> reader.poll().size() >= 3 * Harness.INJECTIONS);
        dead = reader.settle(Duration.ofSeconds(1));
      }
      assertThat(dead).as("one dead letter per poison record").hasSize(3 * Harness.INJECTIONS);
      Map<String, List<String>> failures = new TreeMap<>();
      for (ConsumerRecord<byte[], byte[]> d : dead) {
        assertThat(header(d, DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo(h.outboxTopic);
        assertThat(header(d, DeadLetterHeaders.CONSUMER_GROUP)).isEqualTo(LedgerConsumer.GROUP);
        String id = String.valueOf(header(d, Headers.ID)).replaceAll("-\\d+$", "");
        failures
            .computeIfAbsent(id, k -> new ArrayList<>())
            .add(
                header(d, DeadLetterHeaders.EXCEPTION_CLASS)
                    + ": "
                    + header(d, DeadLetterHeaders.EXCEPTION_MESSAGE));
      }
      Harness.LOG.info("poison records dead-lettered: {}", failures);
      assertThat(failures).hasSize(3);
      assertThat(failures.get("fi.poison:not-json"))
          .hasSize(Harness.INJECTIONS)
          .allMatch(f -> f.contains("not JSON"));
      assertThat(failures.get("null"))
          .hasSize(Harness.INJECTIONS)
          .allMatch(f -> f.contains("no idempotency key"));
      assertThat(failures.get("fi.poison:throws"))
          .hasSize(Harness.INJECTIONS)
          .allMatch(f -> f.contains("always fails"));
    }
  }

  private static ProducerRecord<byte[], byte[]> poison(String topic, String ceId, String value) {
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(
            topic,
            0,
            "poison".getBytes(StandardCharsets.UTF_8),
            value.getBytes(StandardCharsets.UTF_8));
    r.headers().add(Checker.POISON_HEADER, new byte[] {1});
    if (ceId != null) {
      r.headers().add(Headers.ID, ceId.getBytes(StandardCharsets.UTF_8));
    }
    return r;
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }
}

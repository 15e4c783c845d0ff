package dev.unpoll.consumer;

import static dev.unpoll.consumer.TestEvents.event;
import static dev.unpoll.consumer.TestEvents.header;
import static dev.unpoll.consumer.TestEvents.headerValue;
import static dev.unpoll.consumer.TestEvents.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.internal.DeadLetters;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class DeadLetterTopicIT {
  static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    TestPostgres db = server.createDatabase("dead_letter_topic_it");
    ds = db.dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Db.exec(ds, "CREATE TABLE effect (grp text NOT NULL, ce_id text, value text)");
  }

  /** A dead letter as the runner writes it, with a given record time. */
  static ProducerRecord<byte[], byte[]> deadLetter(
      String dlt,
      String topic,
      long offset,
      String group,
      String key,
      String ceId,
      Throwable failure,
      Instant time) {
    ProducerRecord<byte[], byte[]> original =
        event(topic, key, ceId, "{\"secret\":\"s-" + key + "\"}");
    List<Header> headers = new ArrayList<>();
    original.headers().forEach(headers::add);
    headers.addAll(DeadLetters.headers(group, topic, 0, offset, failure, 3));
    return new ProducerRecord<>(
        dlt, 0, time.toEpochMilli(), original.key(), original.value(), headers);
  }

  @Test
  void summarizeGroupsFailuresByExceptionWithCountsAndTimes(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("orders", 1);
    String dlt = topic + ".DLT";
    kafka.createTopic(dlt, 1);
    // recent: the broker deletes records older than its retention (7 days), even mid-test
    Instant t0 = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(600);
    TestEvents.send(
        kafka,
        List.of(
            deadLetter(dlt, topic, 0, "billing", "k1", "e-1", new IllegalStateException("a"), t0),
            deadLetter(
                dlt,
                topic,
                1,
                "billing",
                "k2",
                "e-2",
                new IllegalArgumentException("b"),
                t0.plusSeconds(60)),
            deadLetter(
                dlt,
                topic,
                2,
                "shipping",
                "k3",
                "e-3",
                new IllegalStateException("c"),
                t0.plusSeconds(120))));
    DeadLetterTopic topicReader =
        DeadLetterTopic.builder().bootstrapServers(kafka.bootstrapServers()).topic(dlt).build();

    List<DeadLetterSummary> all = topicReader.summarize(DeadLetterFilter.all());

    assertThat(all).hasSize(2);
    DeadLetterSummary first = all.get(0);
    assertThat(first.exceptionClass()).isEqualTo(IllegalStateException.class.getName());
    assertThat(first.count()).isEqualTo(2);
    assertThat(first.first()).isEqualTo(t0);
    assertThat(first.last()).isEqualTo(t0.plusSeconds(120));
    assertThat(first.examples()).containsExactly("0:0", "0:2");
    assertThat(first.consumerGroups()).containsExactlyInAnyOrder("billing", "shipping");
    assertThat(first.originalTopics()).containsExactly(topic);
    assertThat(all.get(1).exceptionClass()).isEqualTo(IllegalArgumentException.class.getName());
    assertThat(all.get(1).count()).isEqualTo(1);

    assertThat(topicReader.list(DeadLetterFilter.all().withGroup("billing")))
        .extracting(DeadLetter::keyAsString)
        .containsExactly("k1", "k2");
    assertThat(topicReader.list(DeadLetterFilter.all().withSince(t0.plusSeconds(60))))
        .extracting(DeadLetter::keyAsString)
        .containsExactly("k2", "k3");
    assertThat(topicReader.list(DeadLetterFilter.all().withKey("k3")))
        .extracting(DeadLetter::position)
        .containsExactly("0:2");
    assertThat(topicReader.list(DeadLetterFilter.all().withGroup("billing").withKey("k3")))
        .isEmpty();
    assertThat(topicReader.list(DeadLetterFilter.all().withGroup("nobody"))).isEmpty();
  }

  @Test
  void findShowsFailureHeadersAndToStringNeverThePayload(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("find", 1);
    String dlt = topic + ".DLT";
    kafka.createTopic(dlt, 1);
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS).minusSeconds(60);
    ProducerRecord<byte[], byte[]> spring =
        deadLetter(dlt, topic, 7, "billing", "k9", "e-9", new IllegalStateException("boom"), t);
    // Spring's recoverer adds its own headers; partition and offset are binary numbers
    spring
        .headers()
        .add(
            new RecordHeader(
                "kafka_dlt-original-partition", ByteBuffer.allocate(4).putInt(0).array()));
    spring
        .headers()
        .add(
            new RecordHeader(
                "kafka_dlt-original-offset", ByteBuffer.allocate(8).putLong(7).array()));
    TestEvents.send(kafka, List.of(spring));
    DeadLetterTopic topicReader =
        DeadLetterTopic.builder().bootstrapServers(kafka.bootstrapServers()).topic(dlt).build();

    DeadLetter d = topicReader.find(new DeadLetterFilter.Position(0, 0)).orElseThrow();

    assertThat(d.failureHeaders())
        .containsEntry(DeadLetterHeaders.EXCEPTION_CLASS, IllegalStateException.class.getName())
        .containsEntry(DeadLetterHeaders.EXCEPTION_MESSAGE, "boom")
        .containsEntry(DeadLetterHeaders.CONSUMER_GROUP, "billing")
        .containsEntry(DeadLetterHeaders.ORIGINAL_OFFSET, "7")
        .containsEntry("kafka_dlt-original-partition", "0")
        .containsEntry("kafka_dlt-original-offset", "7")
        .doesNotContainKey("ce_id");
    assertThat(d.originalHeaders())
        .extracting(Header::key)
        .contains("ce_id")
        .noneMatch(DeadLetter::isFailureHeader);
    assertThat(d.valueAsString()).isEqualTo("{\"secret\":\"s-k9\"}");
    assertThat(d.toString()).contains(dlt + "-0@0", "k9", "billing").doesNotContain("secret");
    assertThat(topicReader.find(new DeadLetterFilter.Position(0, 1))).isEmpty();
  }

  @Test
  void missingTopicIsNamedWithTheFix(TestKafka kafka) {
    DeadLetterTopic topicReader =
        DeadLetterTopic.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topic("no-such-topic.DLT")
            .build();
    assertThatThrownBy(() -> topicReader.summarize(DeadLetterFilter.all()))
        .isInstanceOf(TopicNotFoundException.class)
        .hasMessageContaining("no-such-topic.DLT does not exist")
        .hasMessageContaining("<its topic>.DLT");
  }

  @Test
  void builderReportsEveryProblem() {
    assertThatThrownBy(() -> DeadLetterTopic.builder().kafkaProperty("group.id", "x").build())
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("bootstrapServers: missing")
        .hasMessageContaining("topic: missing")
        .hasMessageContaining("kafkaProperty group.id");
  }

  @Test
  void replayedDeadLetterIsHandledOnceAndReplayingAgainChangesNothing(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("replay", 1);
    String dlt = topic + ".DLT";
    kafka.createTopic(dlt, 1);
    String group = "g-" + UUID.randomUUID();
    MeterRegistry registry = new SimpleMeterRegistry();
    AtomicBoolean broken = new AtomicBoolean(true);
    IdempotentConsumer idempotent =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup(group)
            .meterRegistry(registry)
            .handler(
                (e, c) -> {
                  if (broken.get() && e.valueAsString().contains("poison")) {
                    throw new IllegalStateException("cannot handle " + e.coordinates());
                  }
                  Db.insertEffect(c, group, e);
                })
            .build();
    TestEvents.send(
        kafka,
        List.of(event(topic, "k1", "r-1", "{\"poison\":true}"), event(topic, "k2", "r-2", "{}")));
    try (KafkaConsumerRunner runner =
        KafkaConsumerRunner.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topics(topic)
            .consumer(idempotent)
            .pollTimeout(Duration.ofMillis(100))
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(2)
                    .initialBackoff(Duration.ofMillis(20))
                    .jitter(Duration.ofMillis(5))
                    .build())
            .build()
            .start()) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 2);
      assertThat(TestEvents.endOffset(kafka, dlt, 0)).isEqualTo(1);
      assertThat(effects(group, "r-1")).isZero();
      broken.set(false); // the handler is fixed

      // tag::replay[]
      DeadLetterTopic deadLetters =
          DeadLetterTopic.builder()
              .bootstrapServers(kafka.bootstrapServers())
              .topic(topic + ".DLT")
              .build();
      DeadLetterFilter failedInThisGroup = DeadLetterFilter.all().withGroup(group);
      List<DeadLetterReplay> wouldSend = deadLetters.replay(failedInThisGroup, true); // dry run
      List<DeadLetterReplay> sent = deadLetters.replay(failedInThisGroup, false);
      // end::replay[]

      assertThat(wouldSend).hasSize(1);
      assertThat(wouldSend.get(0).dryRun()).isTrue();
      assertThat(wouldSend.get(0).offset()).isEqualTo(-1);
      assertThat(sent).hasSize(1);
      DeadLetterReplay r = sent.get(0);
      assertThat(r.from()).isEqualTo(dlt + ":0:0");
      assertThat(r.topic()).isEqualTo(topic);
      assertThat(r.offset()).isEqualTo(2); // the dry run sent nothing: offsets 0, 1 and this one
      assertThat(r.key()).isEqualTo("k1");
      assertThat(r.idempotencyKey()).isEqualTo("r-1");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 3);
      assertThat(effects(group, "r-1")).isEqualTo(1);

      List<ConsumerRecord<byte[], byte[]>> onTopic =
          kafka.readFromBeginning(topic, 3, Duration.ofSeconds(30));
      ConsumerRecord<byte[], byte[]> replayed = onTopic.get(2);
      assertThat(TestEvents.text(replayed.key())).isEqualTo("k1");
      assertThat(headerValue(replayed.headers(), "ce_id")).isEqualTo("r-1");
      assertThat(headerValue(replayed.headers(), DeadLetterHeaders.REPLAYED_FROM))
          .isEqualTo(dlt + ":0:0");
      assertThat(headerValue(replayed.headers(), DeadLetterHeaders.REPLAYED_AT)).isNotBlank();
      assertThat(replayed.headers()).extracting(Header::key).noneMatch(DeadLetter::isFailureHeader);

      List<String> reported = new ArrayList<>();
      assertThat(
              deadLetters.replay(
                  failedInThisGroup,
                  false,
                  (w, done, total) -> reported.add(w + " " + done + "/" + total)))
          .hasSize(1);
      assertThat(reported)
          .as("the records read, then the sends acknowledged")
          .containsSubsequence(
              "reading " + dlt + " 0/1",
              "reading " + dlt + " 1/1",
              "replaying 1 record(s) from " + dlt + " 0/1",
              "replaying 1 record(s) from " + dlt + " 1/1");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 4);
      assertThat(effects(group, "r-1")).isEqualTo(1);
      assertThat(effects(group)).isEqualTo(2);
      assertThat(registry.find(ConsumerMetrics.DUPLICATES).counter().count()).isEqualTo(1);
    }
  }

  @Test
  void replayRefusesRecordsWithoutAnOriginalTopicAndSendsNothing(TestKafka kafka) {
    String dlt = kafka.createUniqueTopic("foreign", 1) + ".DLT";
    kafka.createTopic(dlt, 1);
    TestEvents.send(
        kafka,
        List.of(
            new ProducerRecord<>(dlt, 0, utf8("k"), utf8("{}"), List.of(header("ce_id", "x")))));
    DeadLetterTopic topicReader =
        DeadLetterTopic.builder().bootstrapServers(kafka.bootstrapServers()).topic(dlt).build();
    assertThatThrownBy(() -> topicReader.replay(DeadLetterFilter.all(), false))
        .isInstanceOf(ConsumerException.class)
        .hasMessageContaining("nothing was sent")
        .hasMessageContaining("0:0: no " + DeadLetterHeaders.ORIGINAL_TOPIC);
  }

  private static long effects(String group, String ceId) {
    return Db.count(ds, "SELECT count(*) FROM effect WHERE grp = ? AND ce_id = ?", group, ceId);
  }

  private static long effects(String group) {
    return Db.count(ds, "SELECT count(*) FROM effect WHERE grp = ?", group);
  }
}

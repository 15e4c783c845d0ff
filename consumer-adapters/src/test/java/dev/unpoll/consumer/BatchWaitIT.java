package dev.unpoll.consumer;

import static dev.unpoll.consumer.TestEvents.event;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerInterceptor;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@link KafkaConsumerRunner.Builder#batchWait(Duration)} against the real broker and database:
 * records that arrive one at a time are handled in one transaction when the runner may wait, in one
 * transaction each when it may not, and in both cases every effect is there exactly once and every
 * offset is committed. Transactions are counted with the database's own {@code xmin}: rows written
 * by one transaction share it. Which records the runner has fetched is seen through a Kafka
 * consumer interceptor, so no step depends on timing.
 */
@ExtendWith(UnpollStackExtension.class)
class BatchWaitIT {
  /** Consumer property carrying the {@link AtomicInteger} that {@link Fetched} counts into. */
  static final String FETCHED = "unpoll.test.fetched";

  /** A wait no test reaches: only the batch size (or close) ends it. */
  private static final Duration FOREVER = Duration.ofMinutes(10);

  static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    TestPostgres db = server.createDatabase("batch_wait_it");
    ds = db.dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Db.exec(ds, "CREATE TABLE effect (grp text NOT NULL, ce_id text, value text)");
  }

  /** Counts the records every poll of the runner's consumer returns. */
  public static final class Fetched implements ConsumerInterceptor<byte[], byte[]> {
    private AtomicInteger count;

    @Override
    public void configure(Map<String, ?> configs) {
      count = (AtomicInteger) configs.get(FETCHED);
    }

    @Override
    public ConsumerRecords<byte[], byte[]> onConsume(ConsumerRecords<byte[], byte[]> records) {
      count.addAndGet(records.count());
      return records;
    }

    @Override
    public void onCommit(Map<TopicPartition, OffsetAndMetadata> offsets) {}

    @Override
    public void close() {}
  }

  private static KafkaConsumerRunner.Builder runner(
      TestKafka kafka, String topic, String group, MeterRegistry registry, AtomicInteger fetched) {
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup(group)
            .meterRegistry(registry)
            .handler((e, c) -> Db.insertEffect(c, group, e))
            .build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(consumer)
        .pollTimeout(Duration.ofMillis(100))
        .kafkaProperty(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, Fetched.class.getName())
        .kafkaProperty(FETCHED, fetched);
  }

  private static double duplicates(MeterRegistry registry) {
    var c = registry.find(ConsumerMetrics.DUPLICATES).counter();
    return c == null ? 0 : c.count();
  }

  private static long transactions(String group) {
    return Db.count(ds, "SELECT count(DISTINCT xmin::text) FROM effect WHERE grp = ?", group);
  }

  private static long effects(String group) {
    return Db.count(ds, "SELECT count(*) FROM effect WHERE grp = ?", group);
  }

  private static long distinctEffects(String group) {
    return Db.count(ds, "SELECT count(DISTINCT ce_id) FROM effect WHERE grp = ?", group);
  }

  private static long keys(String group) {
    return Db.count(
        ds,
        "SELECT count(*) FROM " + IdempotencyStore.PROCESSED_TABLE + " WHERE consumer_group = ?",
        group);
  }

  /**
   * Sends records {@code from} to {@code to} one at a time; before sending the next, waits until
   * the runner's consumer has fetched the previous one (and, when {@code handledEach}, until it is
   * handled).
   */
  private static void trickle(
      TestKafka kafka,
      String topic,
      String group,
      int from,
      int to,
      AtomicInteger fetched,
      boolean handledEach) {
    for (int i = from; i <= to; i++) {
      TestEvents.send(kafka, List.of(event(topic, "k" + i, group + "-" + i, "{\"n\":" + i + "}")));
      int sent = i;
      await().atMost(Duration.ofSeconds(60)).until(() -> fetched.get() >= sent);
      if (handledEach) {
        await().atMost(Duration.ofSeconds(60)).until(() -> effects(group) == sent);
      }
    }
  }

  private static void assertExactlyOnce(
      TestKafka kafka, String topic, String group, int n, MeterRegistry registry) {
    assertThat(TestEvents.endOffset(kafka, topic, 0)).as("records produced").isEqualTo(n);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == n);
    assertThat(effects(group)).as("effect rows").isEqualTo(n);
    assertThat(distinctEffects(group)).as("distinct events applied").isEqualTo(n);
    assertThat(keys(group)).as("keys recorded").isEqualTo(n);
    assertThat(duplicates(registry)).as("duplicates").isZero();
  }

  @Test
  void recordsArrivingOneByOneAreHandledInOneTransactionWhenTheRunnerMayWait(TestKafka kafka) {
    int n = 5;

    // no wait (the default): each record fetched alone is handled in its own transaction
    String topic0 = kafka.createUniqueTopic("wait-off", 1);
    String group0 = "g-" + UUID.randomUUID();
    AtomicInteger fetched0 = new AtomicInteger();
    MeterRegistry registry0 = new SimpleMeterRegistry();
    try (KafkaConsumerRunner r =
        runner(kafka, topic0, group0, registry0, fetched0)
            .kafkaProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, n)
            .build()
            .start()) {
      trickle(kafka, topic0, group0, 1, n, fetched0, true);
      assertExactlyOnce(kafka, topic0, group0, n, registry0);
    }
    assertThat(transactions(group0)).as("transactions without a wait").isEqualTo(n);

    // with a wait: the same trickle is gathered until max.poll.records, then one transaction
    String topic = kafka.createUniqueTopic("wait-on", 1);
    String group = "g-" + UUID.randomUUID();
    AtomicInteger fetched = new AtomicInteger();
    MeterRegistry registry = new SimpleMeterRegistry();
    try (KafkaConsumerRunner r =
        runner(kafka, topic, group, registry, fetched)
            .batchWait(FOREVER)
            .kafkaProperty(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3_600_000)
            .kafkaProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, n)
            .build()
            .start()) {
      trickle(kafka, topic, group, 1, n - 1, fetched, false);
      // every record so far is fetched and held, none handled: the batch is not full yet
      assertThat(effects(group)).as("handled before the batch is full").isZero();
      trickle(kafka, topic, group, n, n, fetched, false);
      assertExactlyOnce(kafka, topic, group, n, registry);
    }
    assertThat(transactions(group)).as("transactions with a wait").isEqualTo(1);
  }

  @Test
  void theWaitEndsAfterBatchWaitWithWhatArrived(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("wait-time", 1);
    String group = "g-" + UUID.randomUUID();
    AtomicInteger fetched = new AtomicInteger();
    MeterRegistry registry = new SimpleMeterRegistry();
    try (KafkaConsumerRunner r =
        runner(kafka, topic, group, registry, fetched)
            .batchWait(Duration.ofMillis(50))
            .build()
            .start()) {
      // 3 records, far fewer than max.poll.records (500): only the time ends the wait
      trickle(kafka, topic, group, 1, 3, fetched, false);
      assertExactlyOnce(kafka, topic, group, 3, registry);
    }
  }

  @Test
  void closeCutsTheWaitShortAndHandlesWhatWasGathered(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("wait-close", 1);
    String group = "g-" + UUID.randomUUID();
    AtomicInteger fetched = new AtomicInteger();
    MeterRegistry registry = new SimpleMeterRegistry();
    KafkaConsumerRunner r =
        runner(kafka, topic, group, registry, fetched)
            .batchWait(FOREVER)
            .kafkaProperty(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3_600_000)
            .build()
            .start();
    try (r) {
      trickle(kafka, topic, group, 1, 3, fetched, false);
      assertThat(effects(group)).isZero();
    }
    assertThat(r.isRunning()).isFalse();
    assertExactlyOnce(kafka, topic, group, 3, registry);
    assertThat(transactions(group)).isEqualTo(1);
  }

  /**
   * A second member joins while the first holds gathered records: the rebalance takes the partition
   * from the first, which must drop what it gathered (not handled, not committed) instead of
   * handling it later next to the same records fetched again. Whoever owns the partition afterwards
   * handles every record exactly once, and no record is even seen as a duplicate.
   */
  @Test
  void recordsGatheredFromARevokedPartitionAreLeftToItsNextOwner(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("wait-rebalance", 1);
    String group = "g-" + UUID.randomUUID();
    AtomicInteger fetchedA = new AtomicInteger();
    AtomicInteger fetchedB = new AtomicInteger();
    MeterRegistry registryA = new SimpleMeterRegistry();
    MeterRegistry registryB = new SimpleMeterRegistry();
    try (KafkaConsumerRunner a =
        runner(kafka, topic, group, registryA, fetchedA)
            .batchWait(FOREVER)
            .kafkaProperty(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, 3_600_000)
            .kafkaProperty(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 3)
            .build()
            .start()) {
      trickle(kafka, topic, group, 1, 2, fetchedA, false);
      assertThat(effects(group)).isZero();
      try (KafkaConsumerRunner b =
          runner(kafka, topic, group, registryB, fetchedB).build().start()) {
        // the rebalance has happened: both members are in the group, one of them owns the partition
        await().atMost(Duration.ofSeconds(60)).until(() -> rebalanced(kafka, group));
        TestEvents.send(kafka, List.of(event(topic, "k3", group + "-3", "{\"n\":3}")));
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 3);
        await().atMost(Duration.ofSeconds(60)).until(() -> effects(group) == 3);
      }
    }
    assertThat(TestEvents.committedOffset(kafka, group, topic, 0)).isEqualTo(3);
    assertThat(effects(group)).isEqualTo(3);
    assertThat(distinctEffects(group)).isEqualTo(3);
    assertThat(keys(group)).isEqualTo(3);
    assertThat(duplicates(registryA)).as("A's duplicates").isZero();
    assertThat(duplicates(registryB)).as("B's duplicates").isZero();
  }

  /** True when the group is stable with two members and one of them is assigned a partition. */
  private static boolean rebalanced(TestKafka kafka, String group) throws Exception {
    ConsumerGroupDescription d =
        kafka
            .admin()
            .describeConsumerGroups(List.of(group))
            .all()
            .get(30, TimeUnit.SECONDS)
            .get(group);
    return d.groupState() == GroupState.STABLE
        && d.members().size() == 2
        && d.members().stream().mapToInt(m -> m.assignment().topicPartitions().size()).sum() == 1;
  }

  @Test
  void aWaitNeedsBatchTransactionsAndFitsMaxPollInterval() {
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () ->
                    KafkaConsumerRunner.builder()
                        .bootstrapServers("localhost:9092")
                        .topics("t")
                        .consumer(
                            IdempotentConsumer.builder()
                                .dataSource(ds)
                                .consumerGroup("g")
                                .handler((e, c) -> {})
                                .build())
                        .batchTransactions(false)
                        .batchWait(Duration.ofMillis(20))
                        .build()))
        .hasMessageContaining("batchWait: PT0.02S gathers records into one transaction");
    assertThat(
            org.assertj.core.api.Assertions.catchThrowable(
                () ->
                    KafkaConsumerRunner.builder()
                        .bootstrapServers("localhost:9092")
                        .topics("t")
                        .consumer(
                            IdempotentConsumer.builder()
                                .dataSource(ds)
                                .consumerGroup("g")
                                .handler((e, c) -> {})
                                .build())
                        .batchWait(Duration.ofMinutes(3))
                        .build()))
        .hasMessageContaining("batchWait: PT3M is more than half of max.poll.interval.ms");
  }
}

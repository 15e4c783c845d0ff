package dev.unpoll.consumer;

import static dev.unpoll.consumer.TestEvents.event;
import static dev.unpoll.consumer.TestEvents.headerValue;
import static dev.unpoll.consumer.TestEvents.text;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class KafkaConsumerRunnerIT {
  static DataSource ds;

  @BeforeAll
  static void database(TestPostgres server) {
    TestPostgres db = server.createDatabase("consumer_runner_it");
    ds = db.dataSource();
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    Db.exec(ds, "CREATE TABLE effect (grp text NOT NULL, ce_id text, value text)");
  }

  private static String group() {
    return "g-" + UUID.randomUUID();
  }

  private static IdempotentConsumer.Builder consumer(String group, MeterRegistry registry) {
    return IdempotentConsumer.builder()
        .dataSource(ds)
        .consumerGroup(group)
        .meterRegistry(registry)
        .handler((e, c) -> Db.insertEffect(c, group, e));
  }

  private static KafkaConsumerRunner.Builder runner(
      TestKafka kafka, String topic, IdempotentConsumer consumer) {
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(consumer)
        .pollTimeout(Duration.ofMillis(100))
        .retryPolicy(
            RetryPolicy.builder()
                .maxAttempts(3)
                .initialBackoff(Duration.ofMillis(20))
                .jitter(Duration.ofMillis(5))
                .build());
  }

  private static long effects(String group, String ceId) {
    return Db.count(ds, "SELECT count(*) FROM effect WHERE grp = ? AND ce_id = ?", group, ceId);
  }

  private static long effects(String group) {
    return Db.count(ds, "SELECT count(*) FROM effect WHERE grp = ?", group);
  }

  private static double count(MeterRegistry r, String name) {
    var c = r.find(name).counter();
    return c == null ? 0 : c.count();
  }

  @Test
  void sameRecordTwiceAndRestartBeforeOffsetCommitHaveEffectOnce(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("restart", 1);
    String group = group();
    MeterRegistry registry = new SimpleMeterRegistry();
    IdempotentConsumer idempotent = consumer(group, registry).build();
    TestEvents.send(
        kafka,
        List.of(
            event(topic, "1", "k-1", "{\"n\":1}"),
            event(topic, "1", "k-1", "{\"n\":1}"),
            event(topic, "2", "k-2", "{\"n\":2}")));

    // first consumer instance: handles the first record, then dies before committing its offset
    try (KafkaConsumer<byte[], byte[]> first = new KafkaConsumer<>(kafka.consumerConfig(group))) {
      first.subscribe(List.of(topic));
      List<ConsumerRecord<byte[], byte[]>> got = new ArrayList<>();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(
              () -> {
                ConsumerRecords<byte[], byte[]> rs = first.poll(Duration.ofMillis(100));
                rs.forEach(got::add);
                return !got.isEmpty();
              });
      assertThat(idempotent.process(InboundEvent.of(got.get(0)))).isEqualTo(Outcome.HANDLED);
    }
    assertThat(TestEvents.committedOffset(kafka, group, topic, 0)).isEqualTo(-1);

    try (KafkaConsumerRunner r = runner(kafka, topic, idempotent).build().start()) {
      assertThat(r.isRunning()).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 3);
    }
    assertThat(effects(group, "k-1")).isEqualTo(1);
    assertThat(effects(group, "k-2")).isEqualTo(1);
    assertThat(count(registry, ConsumerMetrics.DUPLICATES)).isEqualTo(2);
    assertThat(count(registry, ConsumerMetrics.HANDLED)).isEqualTo(2);
  }

  /** Simulates the process dying: not an exception the runner handles. */
  static final class SimulatedCrash extends Error {
    SimulatedCrash() {
      super("simulated crash after the database commit");
    }
  }

  @Test
  void crashBetweenDatabaseCommitAndOffsetCommitHasEffectOnce(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("crash", 1);
    String group = group();
    TestEvents.send(kafka, List.of(event(topic, "1", "c-1", "{}"), event(topic, "2", "c-2", "{}")));
    AtomicBoolean crashed = new AtomicBoolean();
    DataSource crashingAfterCommit = new CrashAfterFirstCommit(ds, crashed);
    IdempotentConsumer first =
        IdempotentConsumer.builder()
            .dataSource(crashingAfterCommit)
            .consumerGroup(group)
            .handler((e, c) -> Db.insertEffect(c, group, e))
            .build();
    KafkaConsumerRunner dying = runner(kafka, topic, first).build().start();
    await()
        .dontCatchUncaughtExceptions() // the simulated crash kills the consumer thread
        .atMost(Duration.ofSeconds(30))
        .until(() -> crashed.get() && !dying.isRunning());
    dying.close();
    assertThat(effects(group)).isEqualTo(2); // the batch committed in the database...
    assertThat(TestEvents.committedOffset(kafka, group, topic, 0)).isEqualTo(-1); // ...not in Kafka

    MeterRegistry registry = new SimpleMeterRegistry();
    try (KafkaConsumerRunner r =
        runner(kafka, topic, consumer(group, registry).build()).build().start()) {
      assertThat(r.isRunning()).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 2);
    }
    assertThat(effects(group, "c-1")).isEqualTo(1);
    assertThat(effects(group, "c-2")).isEqualTo(1);
    assertThat(count(registry, ConsumerMetrics.DUPLICATES)).isEqualTo(2);
  }

  @Test
  void transientFailureIsRetriedThenHandled(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("transient", 1);
    String group = group();
    MeterRegistry registry = new SimpleMeterRegistry();
    AtomicInteger calls = new AtomicInteger();
    IdempotentConsumer idempotent =
        consumer(group, registry)
            .handler(
                (e, c) -> {
                  Db.insertEffect(c, group, e); // rolled back with the failed attempts
                  if (calls.incrementAndGet() <= 2) {
                    throw new SQLException("transient: connection reset");
                  }
                })
            .build();
    TestEvents.send(kafka, List.of(event(topic, "1", "t-1", "{}")));
    try (KafkaConsumerRunner r = runner(kafka, topic, idempotent).build().start()) {
      assertThat(r.isRunning()).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> effects(group, "t-1") == 1);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 1);
    }
    assertThat(calls).hasValue(3);
    assertThat(effects(group, "t-1")).isEqualTo(1);
    assertThat(count(registry, ConsumerMetrics.RETRIES)).isEqualTo(2);
    assertThat(count(registry, ConsumerMetrics.DEAD_LETTERED)).isZero();
  }

  @Test
  void alwaysFailingRecordIsDeadLetteredAfterMaxAttemptsAndPartitionMovesOn(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("poison", 1);
    kafka.createTopic(topic + ".DLT", 1);
    String group = group();
    MeterRegistry registry = new SimpleMeterRegistry();
    AtomicInteger poisonCalls = new AtomicInteger();
    IdempotentConsumer idempotent =
        consumer(group, registry)
            .handler(
                (e, c) -> {
                  if (e.valueAsString().contains("poison")) {
                    poisonCalls.incrementAndGet();
                    throw new IllegalStateException("boom at " + e.coordinates());
                  }
                  Db.insertEffect(c, group, e);
                })
            .build();
    TestEvents.send(
        kafka,
        List.of(
            event(topic, "k1", "p-1", "{\"poison\":true}"),
            event(topic, "k2", "p-2", "{\"ok\":true}")));
    try (KafkaConsumerRunner r = runner(kafka, topic, idempotent).build().start()) {
      assertThat(r.isRunning()).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 2);
    }
    assertThat(effects(group, "p-2")).isEqualTo(1);
    assertThat(effects(group, "p-1")).isZero();
    assertThat(poisonCalls).hasValue(3);
    List<ConsumerRecord<byte[], byte[]>> dlt =
        kafka.readFromBeginning(topic + ".DLT", 1, Duration.ofSeconds(30));
    assertThat(dlt).hasSize(1);
    ConsumerRecord<byte[], byte[]> d = dlt.get(0);
    assertThat(text(d.key())).isEqualTo("k1");
    assertThat(text(d.value())).isEqualTo("{\"poison\":true}");
    assertThat(headerValue(d.headers(), "ce_id")).isEqualTo("p-1");
    assertThat(headerValue(d.headers(), "ce_type")).isEqualTo("public.orders.inserted");
    assertThat(headerValue(d.headers(), DeadLetterHeaders.EXCEPTION_CLASS))
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(headerValue(d.headers(), DeadLetterHeaders.EXCEPTION_MESSAGE))
        .isEqualTo("boom at " + topic + "-0@0");
    assertThat(headerValue(d.headers(), DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    assertThat(headerValue(d.headers(), DeadLetterHeaders.ORIGINAL_TOPIC)).isEqualTo(topic);
    assertThat(headerValue(d.headers(), DeadLetterHeaders.ORIGINAL_PARTITION)).isEqualTo("0");
    assertThat(headerValue(d.headers(), DeadLetterHeaders.ORIGINAL_OFFSET)).isEqualTo("0");
    assertThat(headerValue(d.headers(), DeadLetterHeaders.CONSUMER_GROUP)).isEqualTo(group);
    assertThat(count(registry, ConsumerMetrics.DEAD_LETTERED)).isEqualTo(1);
    assertThat(count(registry, ConsumerMetrics.RETRIES)).isEqualTo(2);
  }

  @Test
  void nonRetryableErrorIsDeadLetteredAtOnce(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("nonretryable", 1);
    kafka.createTopic(topic + ".DLT", 1);
    String group = group();
    AtomicInteger calls = new AtomicInteger();
    IdempotentConsumer idempotent =
        consumer(group, new SimpleMeterRegistry())
            .handler(
                (e, c) -> {
                  calls.incrementAndGet();
                  throw new NonRetryableException("order 7 references an unknown customer");
                })
            .build();
    TestEvents.send(kafka, List.of(event(topic, "7", "n-1", "{}")));
    try (KafkaConsumerRunner r =
        runner(kafka, topic, idempotent)
            .retryPolicy(RetryPolicy.builder().maxAttempts(5).build())
            .build()
            .start()) {
      assertThat(r.isRunning()).isTrue();
      List<ConsumerRecord<byte[], byte[]>> dlt =
          kafka.readFromBeginning(topic + ".DLT", 1, Duration.ofSeconds(30));
      assertThat(dlt).hasSize(1);
      assertThat(headerValue(dlt.get(0).headers(), DeadLetterHeaders.ATTEMPTS)).isEqualTo("1");
      assertThat(headerValue(dlt.get(0).headers(), DeadLetterHeaders.EXCEPTION_CLASS))
          .isEqualTo(NonRetryableException.class.getName());
    }
    assertThat(calls).hasValue(1);
  }

  @Test
  void withoutADeadLetterTopicAnUndecidedClaimIsTriedAgainNotSkipped(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("undecided", 1);
    String group = group();
    AtomicInteger calls = new AtomicInteger();
    // the row stays in the poller's in-progress status for more attempts than the policy allows
    IdempotentConsumer idempotent =
        consumer(group, new SimpleMeterRegistry())
            .handler(
                (e, c) -> {
                  if (calls.incrementAndGet() <= 7) {
                    throw new ClaimNotDecidedException(
                        ClaimNotDecidedException.Reason.IN_PROGRESS, "row 7 is PROCESSING");
                  }
                  Db.insertEffect(c, group, e);
                })
            .build();
    TestEvents.send(kafka, List.of(event(topic, "7", "u-1", "{}")));
    try (KafkaConsumerRunner r =
        runner(kafka, topic, idempotent).withoutDeadLetterTopic().build().start()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> effects(group, "u-1") == 1);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 1);
    }
    assertThat(calls).hasValue(8);
    assertThat(effects(group)).isEqualTo(1);
  }

  @Test
  void recordWithoutIdempotencyKeyIsDeadLetteredByDefault(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("nokey", 1);
    kafka.createTopic(topic + ".DLT", 1);
    String group = group();
    IdempotentConsumer idempotent = consumer(group, new SimpleMeterRegistry()).build();
    TestEvents.send(kafka, List.of(event(topic, "1", null, "{}"), event(topic, "2", "w-2", "{}")));
    try (KafkaConsumerRunner r = runner(kafka, topic, idempotent).build().start()) {
      assertThat(r.isRunning()).isTrue();
      List<ConsumerRecord<byte[], byte[]>> dlt =
          kafka.readFromBeginning(topic + ".DLT", 1, Duration.ofSeconds(30));
      assertThat(dlt).hasSize(1);
      assertThat(text(dlt.get(0).key())).isEqualTo("1");
      assertThat(headerValue(dlt.get(0).headers(), DeadLetterHeaders.EXCEPTION_CLASS))
          .isEqualTo(MissingIdempotencyKeyException.class.getName());
      await().atMost(Duration.ofSeconds(30)).until(() -> effects(group, "w-2") == 1);
    }
    assertThat(effects(group)).isEqualTo(1);
  }

  @Test
  void concurrentConsumersWithBatchTransactionsHandleEveryKeyOnce(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("concurrent", 4);
    String group = group();
    MeterRegistry registry = new SimpleMeterRegistry();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      records.add(event(topic, "o" + i, "e-" + i, "{\"i\":" + i + "}"));
    }
    for (int i = 0; i < 200; i++) { // redeliveries, as a relay restart would produce
      records.add(event(topic, "o" + i, "e-" + i, "{\"i\":" + i + "}"));
    }
    TestEvents.send(kafka, records);
    // tag::plain-runner[]
    IdempotentConsumer orders =
        IdempotentConsumer.builder()
            .dataSource(ds) // the service's own database: effects and keys commit together
            .consumerGroup(group) // Kafka group id and unpoll_processed.consumer_group
            .handler((event, connection) -> Db.insertEffect(connection, group, event))
            .meterRegistry(registry)
            .build();
    KafkaConsumerRunner runner =
        KafkaConsumerRunner.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topics(topic)
            .consumer(orders)
            .concurrency(2) // one KafkaConsumer per thread
            .retryPolicy(RetryPolicy.builder().maxAttempts(3).build())
            .build()
            .start();
    // end::plain-runner[]
    try (KafkaConsumerRunner r = runner) {
      assertThat(r.isRunning()).isTrue();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  count(registry, ConsumerMetrics.HANDLED)
                          + count(registry, ConsumerMetrics.DUPLICATES)
                      >= 2_200);
    }
    assertThat(effects(group)).isEqualTo(2_000);
    assertThat(Db.count(ds, "SELECT count(DISTINCT ce_id) FROM effect WHERE grp = ?", group))
        .isEqualTo(2_000);
    assertThat(count(registry, ConsumerMetrics.HANDLED)).isEqualTo(2_000);
    assertThat(count(registry, ConsumerMetrics.DUPLICATES)).isEqualTo(200);
    assertThat(registry.find(ConsumerMetrics.HANDLER_LATENCY).timer().count()).isEqualTo(2_000);
    assertThat(registry.find(ConsumerMetrics.END_TO_END_LATENCY).timer().count()).isEqualTo(2_000);
  }

  /**
   * Also runs the runner on Kafka 4's consumer group protocol (KIP-848); other tests use classic.
   */
  @Test
  void secondInstanceJoiningMidStreamRebalancesWithoutLosingOrRepeatingEffects(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("rebalance", 4);
    String group = group();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      records.add(event(topic, "b" + i, "b-" + i, "{}"));
    }
    TestEvents.send(kafka, records);
    MeterRegistry registryA = new SimpleMeterRegistry();
    MeterRegistry registryB = new SimpleMeterRegistry();
    try (KafkaConsumerRunner a =
            runner(kafka, topic, consumer(group, registryA).build())
                .rateLimit(1_000) // ~3 s of work, so the second instance joins mid-stream
                .kafkaProperty("group.protocol", "consumer")
                .build()
                .start();
        KafkaConsumerRunner b =
            runner(kafka, topic, consumer(group, registryB).build())
                .rateLimit(1_000)
                .kafkaProperty("group.protocol", "consumer")
                .build()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> effects(group) > 0);
      b.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> effects(group) == 3_000);
      long committed = 0;
      for (int p = 0; p < 4; p++) {
        int partition = p;
        await()
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    TestEvents.committedOffset(kafka, group, topic, partition)
                        == TestEvents.endOffset(kafka, topic, partition));
        committed += TestEvents.committedOffset(kafka, group, topic, partition);
      }
      assertThat(committed).isEqualTo(3_000);
      assertThat(a.isRunning()).isTrue();
      assertThat(b.isRunning()).isTrue();
    }
    assertThat(Db.count(ds, "SELECT count(DISTINCT ce_id) FROM effect WHERE grp = ?", group))
        .isEqualTo(3_000);
    assertThat(effects(group)).isEqualTo(3_000);
    assertThat(
            count(registryA, ConsumerMetrics.HANDLED) + count(registryB, ConsumerMetrics.HANDLED))
        .isEqualTo(3_000);
  }

  @Test
  void rateLimitHoldsAcrossThreads(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("rate", 2);
    String group = group();
    MeterRegistry registry = new SimpleMeterRegistry();
    List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      records.add(event(topic, "r" + i, "r-" + i, "{}"));
    }
    TestEvents.send(kafka, records);
    Instant first = null;
    try (KafkaConsumerRunner r =
        runner(kafka, topic, consumer(group, registry).build())
            .concurrency(2)
            .rateLimit(50)
            .build()
            .start()) {
      assertThat(r.isRunning()).isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> effects(group) > 0);
      first = Instant.now();
      await().atMost(Duration.ofSeconds(60)).until(() -> effects(group) == 150);
    }
    // 150 events at 50/s need ~3 s; a broken limiter does them in well under a second
    assertThat(Duration.between(first, Instant.now())).isGreaterThan(Duration.ofMillis(1_800));
  }

  @Test
  void shadowModeRecordsReceiptInLedgerWithoutHandling(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("shadow", 1);
    String group = group();
    Instant ceTime = Instant.parse("2026-11-21T19:56:52.123Z");
    TestEvents.send(
        kafka,
        List.of(
            event(topic, "1", "s-1", "{}", ceTime),
            event(topic, "1", "s-1", "{}", ceTime),
            event(topic, "2", "s-2", "{}", ceTime)));
    MeterRegistry registry = new SimpleMeterRegistry();
    // tag::shadow[]
    IdempotentConsumer shadow =
        IdempotentConsumer.builder()
            .dataSource(ds)
            .consumerGroup(group)
            .meterRegistry(registry)
            .shadow() // record receipt in unpoll_shadow_ledger, run no handler
            .build();
    // end::shadow[]
    try (KafkaConsumerRunner r = runner(kafka, topic, shadow).build().start()) {
      assertThat(r.isRunning()).isTrue();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> TestEvents.committedOffset(kafka, group, topic, 0) == 3);
    }
    assertThat(
            Db.count(
                ds, "SELECT count(*) FROM unpoll_shadow_ledger WHERE consumer_group = ?", group))
        .isEqualTo(2);
    assertThat(
            Db.count(
                ds,
                "SELECT count(*) FROM unpoll_shadow_ledger WHERE consumer_group = ?"
                    + " AND event_time = '2026-11-21T19:56:52.123Z' AND received_at > event_time",
                group))
        .isEqualTo(2);
    assertThat(
            Db.count(ds, "SELECT count(*) FROM unpoll_processed WHERE consumer_group = ?", group))
        .isZero();
    assertThat(effects(group)).isZero();
    assertThat(count(registry, ConsumerMetrics.SHADOWED)).isEqualTo(2);
    assertThat(count(registry, ConsumerMetrics.DUPLICATES)).isEqualTo(1);
  }

  @Test
  void closeCutsRetryWaitShortAndLeavesUnfinishedRecordUncommitted(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("shutdown", 1);
    kafka.createTopic(topic + ".DLT", 1);
    String group = group();
    AtomicInteger calls = new AtomicInteger();
    IdempotentConsumer failing =
        consumer(group, new SimpleMeterRegistry())
            .handler(
                (e, c) -> {
                  calls.incrementAndGet();
                  throw new SQLException("database down");
                })
            .build();
    TestEvents.send(kafka, List.of(event(topic, "1", "d-1", "{}")));
    KafkaConsumerRunner r =
        runner(kafka, topic, failing)
            .retryPolicy(
                RetryPolicy.builder()
                    .maxAttempts(3)
                    .initialBackoff(Duration.ofSeconds(40))
                    .maxBackoff(Duration.ofSeconds(40))
                    .build())
            .build()
            .start();
    await().atMost(Duration.ofSeconds(30)).until(() -> calls.get() == 1);
    long t0 = System.nanoTime();
    r.close();
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
    assertThat(r.isRunning()).isFalse();
    assertThat(TestEvents.committedOffset(kafka, group, topic, 0)).isEqualTo(-1);
    assertThat(kafka.readFromBeginning(topic + ".DLT", 1, Duration.ofSeconds(2))).isEmpty();
  }

  /** A data source whose first commit succeeds in PostgreSQL and then "kills" the caller. */
  static final class CrashAfterFirstCommit implements DataSource {
    private final DataSource delegate;
    private final AtomicBoolean crashed;

    CrashAfterFirstCommit(DataSource delegate, AtomicBoolean crashed) {
      this.delegate = delegate;
      this.crashed = crashed;
    }

    @Override
    public Connection getConnection() throws SQLException {
      Connection real = delegate.getConnection();
      return (Connection)
          java.lang.reflect.Proxy.newProxyInstance(
              Connection.class.getClassLoader(),
              new Class<?>[] {Connection.class},
              (proxy, method, args) -> {
                Object result;
                try {
                  result = method.invoke(real, args);
                } catch (java.lang.reflect.InvocationTargetException e) {
                  throw e.getCause();
                }
                if (method.getName().equals("commit") && crashed.compareAndSet(false, true)) {
                  throw new SimulatedCrash();
                }
                return result;
              });
    }

    @Override
    public Connection getConnection(String user, String password) throws SQLException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public PrintWriter getLogWriter() {
      return null;
    }

    @Override
    public void setLogWriter(PrintWriter out) {}

    @Override
    public void setLoginTimeout(int seconds) {}

    @Override
    public int getLoginTimeout() {
      return 0;
    }

    @Override
    public Logger getParentLogger() throws SQLFeatureNotSupportedException {
      throw new SQLFeatureNotSupportedException();
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
      throw new SQLException("not a wrapper");
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) {
      return false;
    }
  }
}

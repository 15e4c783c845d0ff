package dev.unpoll.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.EventHandler;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.outbox.OutboxEvent;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * One PostgreSQL and one Kafka broker shared by every variant, and what it takes to measure one
 * variant on one fresh batch of events: a new single-partition topic, the batch produced before the
 * consumer starts, a new consumer group, the {@link ConsumptionProbe} window, and afterwards the
 * check that every event's effect is in the database exactly once.
 */
final class ConsumerBench implements AutoCloseable {
  /** What consumes the batch. */
  enum Variant {
    /** {@link PlainConsumerLoop} running the handler alone: no idempotency store (baseline). */
    PLAIN,
    /**
     * The same loop running {@link IdempotentConsumer}: key insert in the handler's transaction.
     */
    IDEMPOTENT_LOOP,
    /** {@link KafkaConsumerRunner} with its defaults: the path users get. */
    RUNNER
  }

  /** One database transaction per poll batch (the runner's default) or per record. */
  enum Transactions {
    BATCH,
    RECORD
  }

  /** One variant's run on one batch. */
  record Measurement(
      Variant variant,
      Transactions transactions,
      String topic,
      List<ProducerRecord<byte[], byte[]>> produced,
      double seconds) {
    double eventsPerSecond() {
      return produced.size() / seconds;
    }
  }

  /**
   * One run of the runner on a paced stream: how many database transactions the events took and how
   * long they waited, source time ({@code ce_time}, set when the event is sent) to the consumer's
   * commit, as the consumer's own end-to-end timer measures it.
   */
  record Paced(
      Duration batchWait,
      int events,
      long transactions,
      double sentPerSecond,
      double p50Millis,
      double p99Millis) {
    double transactionsPerEvent() {
      return (double) transactions / events;
    }
  }

  private static final Duration TIMEOUT = Duration.ofMinutes(3);

  private final EmbeddedPostgresServer postgres;
  private final EmbeddedKafkaBroker broker;
  private final HikariDataSource dataSource;
  private final TestKafka kafka;
  private final KafkaProducer<byte[], byte[]> producer;
  private final IdempotencyStore store = IdempotencyStore.defaults();
  private long nextOrderId;

  private ConsumerBench(
      EmbeddedPostgresServer postgres, EmbeddedKafkaBroker broker, HikariDataSource dataSource) {
    this.postgres = postgres;
    this.broker = broker;
    this.dataSource = dataSource;
    this.kafka = broker.kafka();
    this.producer = kafka.newProducer();
  }

  /**
   * Starts PostgreSQL with fsync, full-page writes and synchronous commit on (every commit waits
   * for a WAL flush, as in production) and an in-JVM Kafka broker, and creates the tables.
   */
  static ConsumerBench start() throws SQLException {
    EmbeddedPostgresServer postgres =
        EmbeddedPostgresServer.builder()
            .setting("fsync", "on")
            .setting("full_page_writes", "on")
            .setting("synchronous_commit", "on")
            .start();
    EmbeddedKafkaBroker broker = null;
    HikariDataSource dataSource = null;
    try {
      broker = EmbeddedKafkaBroker.builder().start();
      TestPostgres pg = postgres.postgres();
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(pg.jdbcUrl());
      config.setUsername(pg.user());
      config.setPassword(pg.password());
      config.setMaximumPoolSize(4);
      config.setPoolName("consumer-benchmark");
      dataSource = new HikariDataSource(config);
      ConsumerBench bench = new ConsumerBench(postgres, broker, dataSource);
      try (Connection c = dataSource.getConnection();
          Statement s = c.createStatement()) {
        s.execute(ShipmentHandler.DDL);
      }
      bench.store.createTablesIfAbsent(dataSource);
      return bench;
    } catch (RuntimeException | SQLException e) {
      if (dataSource != null) {
        dataSource.close();
      }
      if (broker != null) {
        broker.close();
      }
      postgres.close();
      throw e;
    }
  }

  /** CPU accounting that tells this JVM and this PostgreSQL apart from the rest of the machine. */
  CpuAccounting cpu() {
    return new CpuAccounting(postgres.pid());
  }

  /** {@code SHOW} of a server setting, for the report. */
  String setting(String name) throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * Produces a fresh batch of {@code events} to a new topic, consumes it with {@code variant} in a
   * new consumer group, and checks that every event's effect is in {@code shipments} exactly once.
   *
   * @throws IllegalStateException if the consumer fails, times out or the check fails
   */
  Measurement measure(Variant variant, Transactions tx, String label, int events)
      throws SQLException, InterruptedException {
    String topic = (label + "-" + tx + "-" + variant).toLowerCase().replace('_', '-');
    kafka.createTopic(topic, 1);
    List<ProducerRecord<byte[], byte[]>> batch = new ArrayList<>(events);
    for (int i = 0; i < events; i++) {
      batch.add(orderCreated(topic));
    }
    send(batch);
    quiesce();
    MeterRegistry meters = new SimpleMeterRegistry();
    double seconds = consume(variant, tx, topic, meters);
    String problem = exactlyOnceProblem(topic, batch);
    if (problem == null) {
      problem = bookkeepingProblem(variant, topic, meters, events, events, 0);
    }
    if (problem != null) {
      throw new IllegalStateException(variant + " on " + topic + ": " + problem);
    }
    return new Measurement(variant, tx, topic, batch, seconds);
  }

  /**
   * Sends the first {@code count} events of a measured batch again, as a redelivery would, to the
   * same topic and consumer group, and checks the outcome: an idempotent variant must skip them all
   * (no new effect, every one counted as a duplicate); the plain variant applies them a second
   * time, and the exactly-once check must notice (proof that it can fail). Not timed.
   *
   * @return a line for the report
   */
  String redeliver(Measurement m, int count) throws SQLException, InterruptedException {
    List<ProducerRecord<byte[], byte[]>> again = new ArrayList<>();
    for (ProducerRecord<byte[], byte[]> r : m.produced().subList(0, count)) {
      again.add(new ProducerRecord<>(r.topic(), null, r.key(), r.value(), r.headers()));
    }
    send(again);
    MeterRegistry meters = new SimpleMeterRegistry();
    consume(m.variant(), m.transactions(), m.topic(), meters);
    String exactlyOnce = exactlyOnceProblem(m.topic(), m.produced());
    if (m.variant() == Variant.PLAIN) {
      if (exactlyOnce == null) {
        throw new IllegalStateException(
            "PLAIN on "
                + m.topic()
                + ": "
                + count
                + " redelivered events were applied without a trace; the exactly-once check"
                + " cannot see double effects");
      }
      return "PLAIN: " + count + " redelivered events applied again, check says: " + exactlyOnce;
    }
    String problem =
        exactlyOnce != null
            ? exactlyOnce
            : bookkeepingProblem(m.variant(), m.topic(), meters, m.produced().size(), 0, count);
    if (problem != null) {
      throw new IllegalStateException(m.variant() + " redelivery on " + m.topic() + ": " + problem);
    }
    return m.variant()
        + ": "
        + count
        + " redelivered events skipped as duplicates, each effect still applied once";
  }

  /**
   * Runs {@link KafkaConsumerRunner} (defaults, one transaction per poll batch) with {@code
   * batchWait} on a new topic while a producer sends {@code events} events at {@code perSecond},
   * each as soon as it is due ({@code linger.ms=0}, so the producer does not batch them itself).
   * Before the paced events, one primer event without {@code ce_time} proves the consumer has
   * joined its group; it is left out of the counts and of the latency. Afterwards the same
   * exactly-once and bookkeeping checks as {@link #measure} run, and the paced events' transactions
   * are counted with the database's own {@code xmin}: rows one transaction wrote share it.
   */
  Paced paced(String label, Duration batchWait, double perSecond, int events)
      throws SQLException, InterruptedException {
    String topic = (label + "-paced-" + batchWait.toMillis() + "ms").toLowerCase();
    kafka.createTopic(topic, 1);
    quiesce();
    MeterRegistry meters = new SimpleMeterRegistry();
    meters
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public DistributionStatisticConfig configure(
                  Meter.Id id, DistributionStatisticConfig config) {
                if (!id.getName().equals(ConsumerMetrics.END_TO_END_LATENCY)) {
                  return config;
                }
                return DistributionStatisticConfig.builder()
                    .percentiles(0.5, 0.99)
                    .percentilePrecision(3)
                    .expiry(Duration.ofHours(1))
                    .bufferLength(1)
                    .build()
                    .merge(config);
              }
            });
    TopicPartition partition = new TopicPartition(topic, 0);
    ConsumptionProbe.Window window = new ConsumptionProbe.Window(partition, events + 1L);
    List<ProducerRecord<byte[], byte[]>> sent = new ArrayList<>(events + 1);
    Map<String, Object> pacedConfig = new HashMap<>(kafka.producerConfig());
    pacedConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    double sentPerSecond;
    ProducerRecord<byte[], byte[]> primer = orderCreated(topic, false);
    String primerId = ceId(primer);
    CountDownLatch primed = new CountDownLatch(1);
    ShipmentHandler shipments = new ShipmentHandler();
    EventHandler handler =
        (event, connection) -> {
          shipments.handle(event, connection);
          if (event.header(InboundEvent.CE_ID).filter(primerId::equals).isPresent()) {
            primed.countDown();
          }
        };
    KafkaConsumerRunner runner =
        KafkaConsumerRunner.builder()
            .bootstrapServers(kafka.bootstrapServers())
            .topics(topic)
            .consumer(idempotentConsumer(topic, meters, handler))
            .batchWait(batchWait)
            .kafkaProperty(
                ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, ConsumptionProbe.class.getName())
            .kafkaProperty(ConsumptionProbe.WINDOW, window)
            .build();
    try (runner;
        KafkaProducer<byte[], byte[]> paced =
            new KafkaProducer<>(
                pacedConfig, new ByteArraySerializer(), new ByteArraySerializer())) {
      runner.start();
      sent.add(primer);
      send(List.of(primer));
      awaitPrimer(primed, topic, () -> runner.isRunning() ? null : "runner stopped");
      AtomicReference<Exception> failed = new AtomicReference<>();
      long period = Math.round(1e9 / perSecond);
      long start = System.nanoTime();
      long last = start;
      for (int i = 0; i < events; i++) {
        long due = start + i * period;
        while ((last = System.nanoTime()) < due) {
          LockSupport.parkNanos(due - last);
        }
        ProducerRecord<byte[], byte[]> r = orderCreated(topic, true);
        sent.add(r);
        paced.send(
            r,
            (metadata, e) -> {
              if (e != null) {
                failed.compareAndSet(null, e);
              }
            });
      }
      paced.flush();
      if (failed.get() != null) {
        throw new IllegalStateException("producing to Kafka failed", failed.get());
      }
      sentPerSecond = events > 1 ? (events - 1) / ((last - start) / 1e9) : Double.NaN;
      awaitWindow(window, topic, () -> runner.isRunning() ? null : "runner stopped");
    }
    String problem = exactlyOnceProblem(topic, sent);
    if (problem == null) {
      problem = bookkeepingProblem(Variant.RUNNER, topic, meters, events + 1, events + 1, 0);
    }
    long rows;
    long transactions;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*), count(DISTINCT xmin::text) FROM shipments"
                    + " WHERE topic = ? AND event_id <> ?")) {
      ps.setString(1, topic);
      ps.setString(2, ceId(sent.get(0)));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        rows = rs.getLong(1);
        transactions = rs.getLong(2);
      }
    }
    Timer latency = meters.find(ConsumerMetrics.END_TO_END_LATENCY).timer();
    if (problem == null && rows != events) {
      problem = rows + " paced effect rows, expected " + events;
    }
    if (problem == null && (latency == null || latency.count() != events)) {
      problem =
          "end-to-end timer counted "
              + (latency == null ? 0 : latency.count())
              + " events, expected "
              + events;
    }
    if (problem != null) {
      throw new IllegalStateException("paced run on " + topic + ": " + problem);
    }
    double p50 = Double.NaN;
    double p99 = Double.NaN;
    for (ValueAtPercentile v : latency.takeSnapshot().percentileValues()) {
      if (v.percentile() == 0.5) {
        p50 = v.value(TimeUnit.MILLISECONDS);
      } else if (v.percentile() == 0.99) {
        p99 = v.value(TimeUnit.MILLISECONDS);
      }
    }
    return new Paced(batchWait, events, transactions, sentPerSecond, p50, p99);
  }

  private static String ceId(ProducerRecord<byte[], byte[]> r) {
    return new String(r.headers().lastHeader(InboundEvent.CE_ID).value(), StandardCharsets.UTF_8);
  }

  /** Waits until the consumer's handler has seen the primer event. */
  private static void awaitPrimer(CountDownLatch primed, String topic, Health health)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!primed.await(50, TimeUnit.MILLISECONDS)) {
      String problem = health.problem();
      if (problem != null) {
        throw new IllegalStateException(topic + ": " + problem + " before the primer event");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(topic + ": primer event not handled within " + TIMEOUT);
      }
    }
  }

  private ProducerRecord<byte[], byte[]> orderCreated(String topic) {
    return orderCreated(topic, true);
  }

  private ProducerRecord<byte[], byte[]> orderCreated(String topic, boolean withTime) {
    long orderId = ++nextOrderId;
    String payload =
        "{\"orderId\":"
            + orderId
            + ",\"customer\":\"customer-"
            + (orderId % 1000)
            + "\",\"amount\":"
            + (orderId % 10_000) / 100
            + "."
            + String.format("%02d", orderId % 100)
            + "}";
    // An outbox event as the relay publishes it (docs/reference/event-format.md): UUIDv7 id.
    OutboxEvent event =
        OutboxEvent.builder()
            .aggregate("order", Long.toString(orderId))
            .type("OrderCreated")
            .payload(payload, OutboxEvent.APPLICATION_JSON)
            .build();
    ProducerRecord<byte[], byte[]> r =
        new ProducerRecord<>(topic, bytes(event.aggregateId()), bytes(payload));
    r.headers()
        .add("ce_specversion", bytes("1.0"))
        .add(InboundEvent.CE_ID, bytes(event.id().toString()))
        .add("ce_source", bytes("/unpoll/shop/outbox"))
        .add(InboundEvent.CE_TYPE, bytes(event.type()))
        .add(InboundEvent.CE_TIME, bytes(withTime ? Instant.now().toString() : ""))
        .add("ce_subject", bytes(event.aggregateId()))
        .add("content-type", bytes(OutboxEvent.APPLICATION_JSON))
        .add("unpoll_lsn", bytes("0/" + Long.toHexString(0x16B3748L + orderId * 128)))
        .add("unpoll_txid", bytes(Long.toString(1000 + orderId)));
    return r;
  }

  private void send(List<ProducerRecord<byte[], byte[]>> records) {
    AtomicReference<Exception> failed = new AtomicReference<>();
    for (ProducerRecord<byte[], byte[]> r : records) {
      producer.send(
          r,
          (metadata, e) -> {
            if (e != null) {
              failed.compareAndSet(null, e);
            }
          });
    }
    producer.flush();
    if (failed.get() != null) {
      throw new IllegalStateException("producing to Kafka failed", failed.get());
    }
  }

  /** Leaves no dirty pages and no garbage of the previous run to the next one. */
  private void quiesce() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CHECKPOINT");
    }
    System.gc();
  }

  /** Runs the variant until the topic's end offset is committed; returns the window's seconds. */
  private double consume(Variant variant, Transactions tx, String topic, MeterRegistry meters)
      throws InterruptedException {
    TopicPartition partition = new TopicPartition(topic, 0);
    ConsumptionProbe.Window window = new ConsumptionProbe.Window(partition, endOffset(partition));
    boolean batch = tx == Transactions.BATCH;
    if (variant == Variant.RUNNER) {
      KafkaConsumerRunner runner =
          KafkaConsumerRunner.builder()
              .bootstrapServers(kafka.bootstrapServers())
              .topics(topic)
              .consumer(idempotentConsumer(topic, meters))
              .batchTransactions(batch)
              .kafkaProperty(
                  ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, ConsumptionProbe.class.getName())
              .kafkaProperty(ConsumptionProbe.WINDOW, window)
              .build();
      try (runner) {
        runner.start();
        awaitWindow(window, topic, () -> runner.isRunning() ? null : "runner stopped");
      }
    } else {
      PlainConsumerLoop.Processing processing =
          variant == Variant.PLAIN
              ? PlainConsumerLoop.plain(dataSource, new ShipmentHandler())
              : PlainConsumerLoop.idempotent(idempotentConsumer(topic, meters));
      PlainConsumerLoop loop =
          new PlainConsumerLoop(
              loopConfig(topic, window),
              topic,
              processing,
              batch,
              KafkaConsumerRunner.DEFAULT_POLL_TIMEOUT);
      try (loop) {
        loop.start();
        awaitWindow(
            window,
            topic,
            () ->
                loop.failure() != null
                    ? "loop failed: " + loop.failure()
                    : loop.isRunning() ? null : "loop stopped");
      }
      if (loop.failure() != null) {
        throw new IllegalStateException(variant + " on " + topic + " failed", loop.failure());
      }
    }
    return window.seconds();
  }

  private IdempotentConsumer idempotentConsumer(String group, MeterRegistry meters) {
    return idempotentConsumer(group, meters, new ShipmentHandler());
  }

  private IdempotentConsumer idempotentConsumer(
      String group, MeterRegistry meters, EventHandler handler) {
    return IdempotentConsumer.builder()
        .dataSource(dataSource)
        .consumerGroup(group)
        .store(store)
        .handler(handler)
        .meterRegistry(meters)
        .build();
  }

  /** The consumer settings KafkaConsumerRunner uses, for the same group and topic. */
  private Map<String, Object> loopConfig(String group, ConsumptionProbe.Window window) {
    Map<String, Object> config = new HashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, group + "-0");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    config.put(ConsumerConfig.INTERCEPTOR_CLASSES_CONFIG, ConsumptionProbe.class.getName());
    config.put(ConsumptionProbe.WINDOW, window);
    return config;
  }

  private interface Health {
    /** Why the consumer cannot finish, or null while it runs. */
    String problem();
  }

  private static void awaitWindow(ConsumptionProbe.Window window, String topic, Health health)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!window.await(Duration.ofMillis(50))) {
      String problem = health.problem();
      if (problem != null) {
        throw new IllegalStateException(topic + ": " + problem + " before the last offset");
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException(
            topic + ": offset " + window.endOffset + " not committed within " + TIMEOUT);
      }
    }
  }

  private long endOffset(TopicPartition partition) {
    try {
      return kafka
          .admin()
          .listOffsets(Map.of(partition, OffsetSpec.latest()))
          .partitionResult(partition)
          .get(30, TimeUnit.SECONDS)
          .offset();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("cannot read the end offset of " + partition, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading the end offset of " + partition, e);
    }
  }

  /** Null if every produced event has exactly one row in shipments, else what is wrong. */
  private String exactlyOnceProblem(String topic, List<ProducerRecord<byte[], byte[]>> produced)
      throws SQLException {
    Set<String> expected = new HashSet<>();
    for (ProducerRecord<byte[], byte[]> r : produced) {
      expected.add(
          new String(r.headers().lastHeader(InboundEvent.CE_ID).value(), StandardCharsets.UTF_8));
    }
    List<String> applied = new ArrayList<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement("SELECT event_id FROM shipments WHERE topic = ?")) {
      ps.setString(1, topic);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          applied.add(rs.getString(1));
        }
      }
    }
    Set<String> distinct = new HashSet<>(applied);
    Set<String> missing = new HashSet<>(expected);
    missing.removeAll(distinct);
    Set<String> unexpected = new HashSet<>(distinct);
    unexpected.removeAll(expected);
    if (applied.size() == expected.size() && missing.isEmpty() && unexpected.isEmpty()) {
      return null;
    }
    return String.format(
        "%d events produced, %d effect rows: %d events applied more than once, %d missing,"
            + " %d unknown",
        expected.size(),
        applied.size(),
        applied.size() - distinct.size(),
        missing.size(),
        unexpected.size());
  }

  /**
   * Null if the idempotency store and the consumer's meters agree with what happened: the plain
   * loop must not have touched the store; an idempotent consumer must hold {@code keys} keys for
   * its group and have counted {@code handled} events as handled and {@code duplicates} as
   * duplicates, with no retry and no dead letter.
   */
  private String bookkeepingProblem(
      Variant variant, String group, MeterRegistry meters, int keys, int handled, int duplicates)
      throws SQLException {
    long recorded;
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT count(*) FROM "
                    + IdempotencyStore.PROCESSED_TABLE
                    + " WHERE consumer_group = ?")) {
      ps.setString(1, group);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        recorded = rs.getLong(1);
      }
    }
    if (variant == Variant.PLAIN) {
      return recorded == 0 ? null : recorded + " keys in the store, the plain loop must write none";
    }
    List<String> problems = new ArrayList<>();
    if (recorded != keys) {
      problems.add(recorded + " keys recorded, expected " + keys);
    }
    check(problems, meters, ConsumerMetrics.HANDLED, handled);
    check(problems, meters, ConsumerMetrics.DUPLICATES, duplicates);
    check(problems, meters, ConsumerMetrics.RETRIES, 0);
    check(problems, meters, ConsumerMetrics.DEAD_LETTERED, 0);
    return problems.isEmpty() ? null : String.join("; ", problems);
  }

  private static void check(List<String> problems, MeterRegistry meters, String name, long want) {
    long got = Math.round(meters.find(name).counters().stream().mapToDouble(Counter::count).sum());
    if (got != want) {
      problems.add(name + " = " + got + ", expected " + want);
    }
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    producer.close(Duration.ofSeconds(10));
    dataSource.close();
    broker.close();
    postgres.close();
  }
}

package dev.unpoll.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.Servers;
import dev.unpoll.relay.Relay;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.samples.orders.OrderService;
import dev.unpoll.samples.orders.ShippingPoller;
import dev.unpoll.samples.orders.migrated.RelayConfigs;
import dev.unpoll.samples.orders.migrated.ShippingConsumer;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestPostgres;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;

/**
 * One PostgreSQL and one Kafka broker shared by every variant, and what it takes to run one variant
 * for one phase: the samples' writer ({@link OrderService}) inserting legacy integration rows at a
 * fixed rate, and either nothing, the samples' {@link ShippingPoller}, the relay with the samples'
 * configuration plus the samples' {@link ShippingConsumer} (claiming, or without the claim as after
 * retire), or the poller and the claiming path together (dual) handling them. Afterwards it checks
 * that every row was handled exactly once and computes each row's commit → handled latency, what
 * the database spent in the phase and the integration table's dead tuples. {@link #idle} measures
 * the database's idle cost of many pollers against one relay.
 */
final class RelayPollerBench implements AutoCloseable {
  /** Who handles the rows the writer inserts. */
  enum Variant {
    /** Nobody: the writer alone, the database cost every variant has in common. */
    WRITER_ONLY,
    /** {@link ShippingPoller}: {@code FOR UPDATE SKIP LOCKED} every poll interval. */
    POLLER,
    /** The relay (samples' {@code relay-legacy.yaml}) → Kafka → {@code ShippingConsumer}. */
    RELAY,
    /**
     * The retired phase: the relay → Kafka → the samples' consumer without the claim (idempotent on
     * the event id alone, as after {@code unpoll retire}): nothing writes to the integration table
     * but the writer, its rows stay {@code NEW}.
     */
    RETIRED,
    /** The dual phase: the poller and the relay → claiming consumer both on, the first one wins. */
    DUAL
  }

  /** One variant's phase. */
  record Phase(
      Variant variant,
      int rows,
      double writeSeconds,
      long[] latencyMicros,
      double dbCpuSeconds,
      double walsenderCpuSeconds,
      double jvmCpuSeconds,
      long statements,
      long transactions,
      long walBytes,
      double relayAckMeanMillis,
      double othersCores,
      long deadTuples,
      long autovacuumRuns) {
    double rowsPerSecond() {
      return rows / writeSeconds;
    }

    double meanLatencyMillis() {
      return java.util.Arrays.stream(latencyMicros).average().orElse(Double.NaN) / 1000.0;
    }

    /** Nearest-rank percentile of the commit → handled latency, in milliseconds. */
    double latencyMillis(double percentile) {
      if (latencyMicros.length == 0) {
        return Double.NaN;
      }
      int rank = (int) Math.ceil(percentile / 100.0 * latencyMicros.length);
      return latencyMicros[Math.max(0, Math.min(latencyMicros.length, rank) - 1)] / 1000.0;
    }
  }

  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** The schema of the idempotency tables: the samples' {@code shipping}, dropped with it. */
  static final String STORE_SCHEMA = "shipping";

  private final EmbeddedPostgresServer postgres; // null on the user's own servers
  private final EmbeddedKafkaBroker broker; // null on the user's own servers
  private final Servers target;
  private final BenchNames names;
  private final Admin admin;
  private final IdempotencyStore store;
  private final HikariDataSource writerPool;
  private final HikariDataSource pollerPool;
  private final HikariDataSource consumerPool;
  private final CpuAccounting cpu;
  private final Duration pollInterval;
  private final BenchCleanup cleanup; // null on the embedded servers: they go away whole
  private volatile Relay running; // the relay of the phase in progress, for an interrupted run
  private volatile KafkaConsumerRunner runningConsumer; // likewise its consumer

  /**
   * Set once {@link #closeAndClean()} starts (a SIGTERM's hook runs it while the bench's own thread
   * goes on): from then on no relay, consumer or connection is started, or one started after the
   * cleanup's look would re-create the topic it deleted and keep the group alive.
   */
  private volatile boolean closing;

  private RelayPollerBench(
      EmbeddedPostgresServer postgres,
      EmbeddedKafkaBroker broker,
      Servers target,
      BenchNames names,
      Admin admin,
      HikariDataSource writerPool,
      HikariDataSource pollerPool,
      HikariDataSource consumerPool,
      Duration pollInterval,
      BenchCleanup cleanup) {
    this.postgres = postgres;
    this.broker = broker;
    this.target = target;
    this.names = names;
    this.admin = admin;
    this.store = IdempotencyStore.builder().schema(STORE_SCHEMA).build();
    this.writerPool = writerPool;
    this.pollerPool = pollerPool;
    this.consumerPool = consumerPool;
    this.cpu = new CpuAccounting(postgres == null ? -1 : postgres.pid());
    this.pollInterval = pollInterval;
    this.cleanup = cleanup;
  }

  /** Whether this runs on the user's own servers (not on servers it started). */
  boolean external() {
    return postgres == null;
  }

  /** The names of what this run creates. */
  BenchNames names() {
    return names;
  }

  /** A connection to the database every phase runs on. */
  Connection connect() throws SQLException {
    if (closing) {
      throw new SQLException("unpoll bench is stopping: no new connection");
    }
    return BenchCleanup.connect(target);
  }

  /** Fails once {@link #closeAndClean()} has begun; call holding this object's lock. */
  private void checkOpen() {
    if (closing) {
      throw new IllegalStateException("unpoll bench is stopping: nothing new is started");
    }
  }

  /**
   * Starts PostgreSQL with fsync, full-page writes and synchronous commit on and pg_stat_statements
   * loaded, an in-JVM Kafka broker, and creates the samples' legacy schema, the idempotency tables
   * and the relay's topic.
   */
  static RelayPollerBench start(Duration pollInterval) throws SQLException {
    EmbeddedPostgresServer postgres =
        EmbeddedPostgresServer.builder()
            .setting("fsync", "on")
            .setting("full_page_writes", "on")
            .setting("synchronous_commit", "on")
            .setting("shared_preload_libraries", "pg_stat_statements")
            .setting("pg_stat_statements.track", "top")
            .start();
    EmbeddedKafkaBroker broker = null;
    Admin admin = null;
    List<HikariDataSource> pools = new ArrayList<>();
    try {
      broker = EmbeddedKafkaBroker.builder().start();
      TestPostgres pg = postgres.postgres();
      Servers target =
          new Servers(
              pg.jdbcUrl(), pg.user(), pg.password(), broker.kafka().bootstrapServers(), Map.of());
      BenchNames names = BenchNames.random();
      admin = BenchCleanup.admin(target);
      openPoolsAndCreateTables(target, pools);
      try (Connection c = pg.connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
      }
      BenchCleanup.createTopic(admin, names.topic());
      return new RelayPollerBench(
          postgres,
          broker,
          target,
          names,
          admin,
          pools.get(0),
          pools.get(1),
          pools.get(2),
          pollInterval,
          null);
    } catch (RuntimeException | SQLException e) {
      pools.forEach(HikariDataSource::close);
      if (admin != null) {
        admin.close();
      }
      if (broker != null) {
        broker.close();
      }
      postgres.close();
      throw e;
    }
  }

  /**
   * On the user's own PostgreSQL and Kafka ({@code unpoll bench --db ... --kafka ...}): checks that
   * nothing the bench creates exists yet and that Kafka lets it create its topic (nothing is
   * created when a check fails), then creates the samples' legacy schema (marked as the bench's
   * with a comment naming the run), the idempotency tables in it and the run's own topic. {@link
   * #close()} removes all of it, the run's slot, publication, relay tables and consumer group too;
   * call it also when a phase fails.
   */
  static RelayPollerBench startOn(Servers target, Duration pollInterval) throws SQLException {
    BenchNames names = BenchNames.random();
    BenchCleanup cleanup = BenchCleanup.preflight(target, names);
    List<HikariDataSource> pools = new ArrayList<>();
    try {
      cleanup.createSchemas();
      openPoolsAndCreateTables(target, pools);
      cleanup.createTopic();
      return new RelayPollerBench(
          null,
          null,
          target,
          names,
          cleanup.admin(),
          pools.get(0),
          pools.get(1),
          pools.get(2),
          pollInterval,
          cleanup);
    } catch (RuntimeException | SQLException e) {
      pools.forEach(HikariDataSource::close);
      cleanup.run(null);
      throw e;
    }
  }

  /**
   * Opens the writer's, the poller's and the consumer's pools, in that order, into {@code pools}
   * (so that the caller closes whatever opened if a later step fails), and creates the samples'
   * legacy schema and the idempotency tables.
   */
  private static void openPoolsAndCreateTables(Servers target, List<HikariDataSource> pools)
      throws SQLException {
    for (String name : List.of("writer", "poller", "consumer")) {
      pools.add(pool(target, name, 2));
    }
    LegacySchema.create(pools.get(0));
    IdempotencyStore.builder().schema(STORE_SCHEMA).build().createTablesIfAbsent(pools.get(0));
  }

  private static HikariDataSource pool(Servers target, String name, int size) {
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(target.jdbcUrl());
    config.setUsername(target.user());
    config.setPassword(target.password());
    config.setMaximumPoolSize(size);
    config.setMinimumIdle(size);
    config.setPoolName("relay-bench-" + name);
    config.addDataSourceProperty("ApplicationName", "relay-bench-" + name);
    return new HikariDataSource(config);
  }

  /** The database every phase runs on, when this started it. */
  TestPostgres postgres() {
    if (postgres == null) {
      throw new IllegalStateException("not on an embedded server");
    }
    return postgres.postgres();
  }

  String setting(String name) throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SHOW " + name)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * Runs {@code variant} for one phase: resets the tables, starts the variant, waits until a probe
   * row is handled, then writes {@code rate} rows per second for {@code seconds} and measures from
   * the first write until {@code settle} after the last. Aborts on any lost, doubled or unknown
   * row.
   */
  Phase run(Variant variant, double rate, double seconds, Duration settle) throws Exception {
    return run(variant, pollInterval, rate, seconds, settle, Duration.ofSeconds(2));
  }

  /**
   * As {@link #run(Variant, double, double, Duration)}, with the poller's {@code interval} and the
   * {@code pause} between the probe and the window given.
   */
  Phase run(
      Variant variant,
      Duration interval,
      double rate,
      double seconds,
      Duration settle,
      Duration pause)
      throws Exception {
    reset();
    TableStats statsBefore = tableStats();
    OrderService orders = new OrderService(writerPool);
    ShippingPoller poller = null;
    Relay relay = null;
    KafkaConsumerRunner consumer = null;
    SimpleMeterRegistry relayMetrics = new SimpleMeterRegistry();
    try {
      if (variant == Variant.POLLER || variant == Variant.DUAL) {
        poller = new ShippingPoller(pollerPool);
        poller.start(interval);
      }
      if (variant == Variant.RELAY || variant == Variant.RETIRED || variant == Variant.DUAL) {
        relay = Relay.builder().config(relayConfig()).meterRegistry(relayMetrics).build();
        synchronized (this) { // with closeAndClean: it either sees the relay or it is refused
          checkOpen();
          running = relay;
        }
        relay.start();
        await(relay::isStreaming, "relay streaming");
        IdempotentConsumer handler =
            variant == Variant.RETIRED ? retiredConsumer() : claimingConsumer();
        synchronized (this) {
          checkOpen();
          consumer = runConsumer(handler);
          runningConsumer = consumer;
        }
      }
      if (variant != Variant.WRITER_ONLY) {
        // the path works end to end before the clock starts (group joined, slot streaming)
        long probe = orders.placeOrder("probe", new BigDecimal("1.00"));
        await(() -> handledCount(probe, probe) == 1, "probe row handled");
      }
      Thread.sleep(pause.toMillis());

      int n = (int) Math.round(rate * seconds);
      long[] ids = new long[n];
      Instant[] committed = new Instant[n];
      resetStatements();
      String walBefore = walInsertLsn();
      Timer ack = relayMetrics.find("unpoll.relay.latency").timer();
      long ackCountBefore = ack == null ? 0 : ack.count();
      double ackTotalBefore = ack == null ? 0 : ack.totalTime(TimeUnit.MILLISECONDS);
      Map<String, Long> threadsBefore = threadCpu();
      CpuAccounting.Snapshot machineBefore = cpu.snapshot();
      Ticks before = ticks();
      long start = System.nanoTime();
      for (int i = 0; i < n; i++) {
        long due = start + (long) (i * 1e9 / rate);
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        ids[i] = orders.placeOrder("customer-" + i, new BigDecimal("10.50"));
        committed[i] = Instant.now();
      }
      double writeSeconds = (System.nanoTime() - start) / 1e9;
      Thread.sleep(settle.toMillis());
      Ticks after = ticks();
      CpuAccounting.Snapshot machineAfter = cpu.snapshot();
      long statements = statements("");
      dumpStatements(variant);
      dumpThreads(variant, threadsBefore, threadCpu());
      long transactions = statements(" WHERE query = 'BEGIN'");
      long walBytes = walBytesSince(walBefore);
      ack = relayMetrics.find("unpoll.relay.latency").timer();
      double ackMean =
          ack == null
              ? Double.NaN
              : (ack.totalTime(TimeUnit.MILLISECONDS) - ackTotalBefore)
                  / (ack.count() - ackCountBefore);

      long first = ids[0];
      long last = ids[n - 1];
      if (variant != Variant.WRITER_ONLY) {
        try {
          await(() -> handledCount(first, last) >= n, "all " + n + " rows handled");
        } catch (IllegalStateException e) {
          throw new IllegalStateException(
              e.getMessage() + "; " + diagnose(first, last, relay, relayMetrics), e);
        }
      }
      stop(poller, consumer, relay);
      poller = null;
      consumer = null;
      relay = null;
      long[] latencies = check(variant, ids, committed);
      TableStats statsAfter = flushedTableStats(statsBefore);
      return new Phase(
          variant,
          n,
          writeSeconds,
          latencies,
          (after.postgres - before.postgres) / 1e9,
          (after.walsender - before.walsender) / 1e9,
          (after.jvmNanos - before.jvmNanos) / 1e9,
          statements,
          transactions,
          walBytes,
          ackMean,
          CpuAccounting.othersCores(machineBefore, machineAfter),
          statsAfter.deadTuples(),
          statsAfter.autovacuumRuns() - statsBefore.autovacuumRuns());
    } finally {
      stop(poller, consumer, relay);
    }
  }

  /**
   * The samples' claiming consumer ({@link ShippingConsumer#claiming}: the claim from the mapping
   * the relay runs from, the poller's handler), in the run's own consumer group and with the
   * idempotency tables in the bench's schema.
   */
  private IdempotentConsumer claimingConsumer() {
    TableMapping mapping = RelayConfigs.mapping(RelayConfigs.LEGACY, ShippingPoller.TABLE);
    return IdempotentConsumer.builder()
        .dataSource(consumerPool)
        .consumerGroup(names.group())
        .store(store)
        .claim(DualRunClaim.from(mapping).processedAtColumn("processed_at").build())
        .handler(
            ShippingConsumer.integrationRowHandler(
                new dev.unpoll.samples.orders.ShipmentHandler("consumer")))
        .meterRegistry(new SimpleMeterRegistry())
        .build();
  }

  /** As {@link ShippingConsumer#run}, on the run's topic, with the Kafka client properties. */
  private KafkaConsumerRunner runConsumer(IdempotentConsumer consumer) {
    KafkaConsumerRunner.Builder b =
        KafkaConsumerRunner.builder()
            .bootstrapServers(target.kafkaBootstrap())
            .topics(names.topic())
            .consumer(consumer)
            .retryPolicy(RetryPolicy.builder().maxAttempts(5).build()) // then <topic>.DLT
            // the bench creates its topic itself: its consumer never creates one in your cluster
            .kafkaProperty("allow.auto.create.topics", "false")
            // -Dconsumer.batch.wait.ms: the event path's consumer gathers records this long
            .batchWait(Duration.ofMillis(Long.getLong("consumer.batch.wait.ms", 0)));
    target
        .kafkaProperties()
        .forEach(
            (k, v) -> {
              b.kafkaProperty(k, v);
              b.producerProperty(k, v);
            });
    return b.build().start();
  }

  /**
   * The samples' consumer after retire: idempotent on the event id alone, no claim, the same
   * handler; the integration table's status column is no longer touched.
   */
  private IdempotentConsumer retiredConsumer() {
    return IdempotentConsumer.builder()
        .dataSource(consumerPool)
        .consumerGroup(names.group())
        .store(store)
        .handler(
            ShippingConsumer.integrationRowHandler(
                new dev.unpoll.samples.orders.ShipmentHandler("consumer")))
        .meterRegistry(new SimpleMeterRegistry())
        .build();
  }

  /**
   * The database's idle cost for {@code seconds} with {@code arm}: {@code POLLER}, {@code tables}
   * pollers ({@link ShippingPoller} on empty tables shaped like the integration table, one each,
   * every {@code interval}, through one pool of {@code tables} connections); {@code RELAY}, one
   * relay capturing the same tables with a heartbeat every {@code heartbeat}; {@code WRITER_ONLY},
   * neither (the server alone). Nothing is written.
   */
  Phase idle(
      Variant arm,
      int tables,
      Duration interval,
      Duration heartbeat,
      double seconds,
      Duration pause)
      throws Exception {
    List<String> names = idleTables(tables);
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute("CHECKPOINT");
    }
    List<ShippingPoller> pollers = new ArrayList<>();
    HikariDataSource pool = null;
    Relay relay = null;
    try {
      if (arm == Variant.RELAY) {
        relay =
            Relay.builder()
                .config(idleRelayConfig(names, heartbeat))
                .meterRegistry(new SimpleMeterRegistry())
                .build();
        relay.start();
        Relay started = relay;
        await(started::isStreaming, "idle relay streaming");
      } else if (arm == Variant.POLLER) {
        pool = pool(target, "idle-pollers", tables);
        for (String t : names) {
          ShippingPoller p = new ShippingPoller(pool, t);
          p.start(interval);
          pollers.add(p);
        }
      }
      Thread.sleep(pause.toMillis()); // past the start: the pools filled, the relay streaming
      resetStatements();
      String walBefore = walInsertLsn();
      CpuAccounting.Snapshot machineBefore = cpu.snapshot();
      Ticks before = ticks();
      long start = System.nanoTime();
      LockSupport.parkNanos((long) (seconds * 1e9));
      double window = (System.nanoTime() - start) / 1e9;
      Ticks after = ticks();
      CpuAccounting.Snapshot machineAfter = cpu.snapshot();
      long statements = statements("");
      long transactions = statements(" WHERE query = 'BEGIN'");
      long walBytes = walBytesSince(walBefore);
      return new Phase(
          arm,
          0,
          window,
          new long[0],
          (after.postgres - before.postgres) / 1e9,
          (after.walsender - before.walsender) / 1e9,
          (after.jvmNanos - before.jvmNanos) / 1e9,
          statements,
          transactions,
          walBytes,
          Double.NaN,
          CpuAccounting.othersCores(machineBefore, machineAfter),
          0,
          0);
    } finally {
      pollers.forEach(ShippingPoller::stop);
      if (pool != null) {
        pool.close();
      }
      if (relay != null) {
        relay.close();
        RelaySlots.dropWithRelayState(this::connect, IDLE_SLOT, TIMEOUT);
      }
    }
  }

  static final String IDLE_SLOT = "unpoll_bench_idle";

  /** Empty tables shaped like the integration table, {@code bench_idle.integration_1..n}. */
  private List<String> idleTables(int n) throws SQLException {
    List<String> names = new ArrayList<>();
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE SCHEMA IF NOT EXISTS bench_idle");
      for (int i = 1; i <= n; i++) {
        String name = "bench_idle.integration_" + i;
        s.execute(
            "CREATE TABLE IF NOT EXISTS "
                + name
                + " (LIKE shop.order_integration INCLUDING DEFAULTS INCLUDING CONSTRAINTS"
                + " INCLUDING INDEXES)");
        names.add(name);
      }
    }
    return names;
  }

  /** The samples' relay configuration, capturing the idle tables instead, one topic each. */
  private UnpollConfig idleRelayConfig(List<String> tables, Duration heartbeat) {
    StringBuilder yaml = new StringBuilder();
    yaml.append("source:\n")
        .append("  jdbc-url: ${ORDERS_DB_URL}\n")
        .append("  user: ${ORDERS_DB_USER}\n")
        .append("  password: ${ORDERS_DB_PASSWORD}\n")
        .append("  slot: ")
        .append(IDLE_SLOT)
        .append('\n')
        .append("  publication: ")
        .append(IDLE_SLOT)
        .append('\n')
        .append("  heartbeat-interval: ")
        .append(heartbeat.toMillis())
        .append("ms\n")
        .append("kafka:\n  bootstrap-servers: ${KAFKA_BOOTSTRAP_SERVERS}\n")
        .append("tables:\n");
    for (String t : tables) {
      String topic = "bench-idle." + t.substring(t.indexOf('.') + 1);
      broker.kafka().createTopic(topic, 1);
      yaml.append("  - table: ")
          .append(t)
          .append('\n')
          .append("    topic: ")
          .append(topic)
          .append('\n')
          .append("    key: [id]\n")
          .append("    bookkeeping-columns: [status, processed_at, retry_count]\n");
    }
    yaml.append("http:\n  port: 0\n");
    return UnpollConfig.parse(RelayYaml.withPollInterval(yaml.toString()), env());
  }

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("ORDERS_DB_URL", target.jdbcUrl());
    env.put("ORDERS_DB_USER", target.user());
    env.put("ORDERS_DB_PASSWORD", target.password() == null ? "" : target.password());
    env.put("KAFKA_BOOTSTRAP_SERVERS", target.kafkaBootstrap());
    env.putAll(kafkaPropertyValues());
    return env;
  }

  /** Kafka client property → the placeholder variable that carries its value. */
  private Map<String, String> kafkaPropertyVariables() {
    Map<String, String> vars = new java.util.TreeMap<>();
    int i = 0;
    for (String name : new java.util.TreeSet<>(target.kafkaProperties().keySet())) {
      vars.put(name, "UNPOLL_BENCH_KAFKA_PROPERTY_" + i++);
    }
    return vars;
  }

  private Map<String, String> kafkaPropertyValues() {
    Map<String, String> values = new HashMap<>();
    kafkaPropertyVariables().forEach((n, v) -> values.put(v, target.kafkaProperties().get(n)));
    return values;
  }

  /** Counters of {@code pg_stat_user_tables} for the integration table. */
  private record TableStats(long updates, long deadTuples, long autovacuumRuns) {}

  private TableStats tableStats() throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT n_tup_upd, n_dead_tup, autovacuum_count FROM pg_stat_user_tables"
                    + " WHERE relid = 'shop.order_integration'::regclass")) {
      rs.next();
      return new TableStats(rs.getLong(1), rs.getLong(2), rs.getLong(3));
    }
  }

  /**
   * The integration table's counters once every update of the phase has reached the statistics: the
   * backends report theirs at intervals, so the pools' connections are closed (a backend reports at
   * exit) and the counters are read until they count every row marked since the reset.
   */
  private TableStats flushedTableStats(TableStats before) throws Exception {
    pollerPool.getHikariPoolMXBean().softEvictConnections();
    consumerPool.getHikariPoolMXBean().softEvictConnections();
    long marked;
    try (Connection c = connect()) {
      marked =
          count(c, "SELECT count(*) FROM shop.order_integration WHERE processed_at IS NOT NULL");
    }
    await(
        () -> {
          try {
            return tableStats().updates() - before.updates() >= marked;
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
        },
        "the statistics count the " + marked + " rows marked");
    return tableStats();
  }

  private UnpollConfig relayConfig() {
    return UnpollConfig.parse(
        RelayYaml.legacy(
            names.slot(), names.publication(), names.topic(), kafkaPropertyVariables()),
        env());
  }

  /** Stops what runs; the relay's slot and offsets are dropped so its next start is a first one. */
  private void stop(ShippingPoller poller, KafkaConsumerRunner consumer, Relay relay)
      throws Exception {
    if (poller != null) {
      poller.stop();
    }
    if (consumer != null) {
      consumer.close();
      runningConsumer = null;
    }
    if (relay != null) {
      relay.close();
      running = null;
      RelaySlots.dropWithRelayState(this::connect, names.slot(), TIMEOUT);
    }
  }

  /** What a phase that did not handle every row left behind, for the failure message. */
  private String diagnose(long first, long last, Relay relay, SimpleMeterRegistry relayMetrics) {
    StringBuilder b = new StringBuilder();
    try (Connection c = connect()) {
      b.append("handled ").append(handledCount(first, last));
      b.append(", rows not DONE ")
          .append(
              count(
                  c,
                  "SELECT count(*) FROM shop.order_integration WHERE status <> 'DONE' AND id BETWEEN "
                      + first
                      + " AND "
                      + last));
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT min(id), max(id) FROM shop.order_integration WHERE status <> 'DONE'"
                      + " AND id BETWEEN "
                      + first
                      + " AND "
                      + last)) {
        rs.next();
        b.append(" (ids ").append(rs.getLong(1)).append("..").append(rs.getLong(2)).append(')');
      }
      b.append(", keys recorded ")
          .append(count(c, "SELECT count(*) FROM " + STORE_SCHEMA + ".unpoll_processed"));
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT slot_name, active, confirmed_flush_lsn, pg_current_wal_lsn()"
                      + " FROM pg_replication_slots WHERE slot_name = '"
                      + names.slot()
                      + "'")) {
        while (rs.next()) {
          b.append(", slot ")
              .append(rs.getString(1))
              .append(" active ")
              .append(rs.getBoolean(2))
              .append(" confirmed ")
              .append(rs.getString(3))
              .append(" wal ")
              .append(rs.getString(4));
        }
      }
    } catch (SQLException e) {
      b.append(", cannot read the database: ").append(e);
    }
    if (relay != null) {
      b.append(", relay streaming ")
          .append(relay.isStreaming())
          .append(" error ")
          .append(relay.lastError().orElse("none"))
          .append(" acked LSN ")
          .append(relay.lastAcknowledgedLsn().orElse("none"));
      relayMetrics
          .getMeters()
          .forEach(
              m ->
                  m.measure()
                      .forEach(
                          x ->
                              b.append(", ")
                                  .append(m.getId().getName())
                                  .append(m.getId().getTags())
                                  .append(' ')
                                  .append(x.getStatistic())
                                  .append('=')
                                  .append(x.getValue())));
      try {
        org.apache.kafka.common.TopicPartition tp =
            new org.apache.kafka.common.TopicPartition(names.topic(), 0);
        b.append(", topic end offset ")
            .append(
                admin
                    .listOffsets(Map.of(tp, org.apache.kafka.clients.admin.OffsetSpec.latest()))
                    .partitionResult(tp)
                    .get()
                    .offset());
        b.append(", group committed ")
            .append(
                admin
                    .listConsumerGroupOffsets(names.group())
                    .partitionsToOffsetAndMetadata()
                    .get()
                    .get(tp));
      } catch (Exception e) {
        b.append(", cannot read Kafka: ").append(e);
      }
    }
    return b.toString();
  }

  /** Every phase starts from empty tables and a checkpoint. */
  private void reset() throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute(
          "TRUNCATE shop.order_integration, shop.orders, shipping.shipments,"
              + " shipping.handling_log, "
              + STORE_SCHEMA
              + ".unpoll_processed");
      s.execute("VACUUM ANALYZE shop.order_integration");
      if (!external()) {
        s.execute("CHECKPOINT"); // on the user's server: not ours to force (and needs a superuser)
      }
    }
  }

  private int handledCount(long first, long last) {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT count(*) FROM shipping.handling_log WHERE integration_id BETWEEN ? AND ?")) {
      s.setLong(1, first);
      s.setLong(2, last);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Every written row handled exactly once by the variant's path and marked DONE, no unknown row
   * handled, one shipment per row; returns the latencies (handled_at − commit) sorted.
   */
  private long[] check(Variant variant, long[] ids, Instant[] committed) throws SQLException {
    Map<Long, Integer> index = new HashMap<>();
    for (int i = 0; i < ids.length; i++) {
      index.put(ids[i], i);
    }
    long[] latencies = new long[variant == Variant.WRITER_ONLY ? 0 : ids.length];
    boolean[] seen = new boolean[ids.length];
    List<String> expectedBy =
        switch (variant) {
          case POLLER -> List.of("poller");
          case DUAL -> List.of("poller", "consumer");
          default -> List.of("consumer");
        };
    List<String> problems = new ArrayList<>();
    // handled_at is the database's clock, the commit instant this JVM's: on the user's server
    // the two clocks may differ; their offset is measured and taken out
    long clockOffsetMicros = external() ? clockOffset().offsetMicros() : 0;
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT integration_id, handled_by, handled_at FROM shipping.handling_log"
                    + " WHERE integration_id >= ?")) {
      s.setLong(1, ids[0]);
      try (ResultSet rs = s.executeQuery()) {
        while (rs.next()) {
          long id = rs.getLong(1);
          Integer i = index.get(id);
          if (variant == Variant.WRITER_ONLY || i == null) {
            problems.add("unexpected handling of row " + id);
          } else if (seen[i]) {
            problems.add("row " + id + " handled twice");
          } else if (!expectedBy.contains(rs.getString(2))) {
            problems.add("row " + id + " handled by " + rs.getString(2));
          } else {
            seen[i] = true;
            Instant handled = rs.getObject(3, OffsetDateTime.class).toInstant();
            latencies[i] =
                Duration.between(committed[i], handled).toNanos() / 1000 - clockOffsetMicros;
          }
        }
      }
      if (variant != Variant.WRITER_ONLY) {
        for (int i = 0; i < ids.length; i++) {
          if (!seen[i]) {
            problems.add("row " + ids[i] + " never handled");
          }
        }
        // retired: nothing but the writer touches the table, every row stays NEW
        String expected = variant == Variant.RETIRED ? "NEW" : "DONE";
        long other =
            count(
                c,
                "SELECT count(*) FROM shop.order_integration WHERE status <> '"
                    + expected
                    + "' AND id >= "
                    + ids[0]);
        if (other != 0) {
          problems.add(other + " rows not " + expected);
        }
        long shipments =
            count(c, "SELECT count(*) FROM shipping.shipments WHERE integration_id >= " + ids[0]);
        if (shipments != ids.length) {
          problems.add(shipments + " shipments for " + ids.length + " rows");
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new IllegalStateException(
          variant
              + ": "
              + problems.size()
              + " problems, first: "
              + problems.subList(0, Math.min(5, problems.size())));
    }
    String dump = System.getProperty("dump");
    if (dump != null && latencies.length > 0) {
      StringBuilder b = new StringBuilder();
      for (int i = 0; i < latencies.length; i++) {
        b.append(i).append(' ').append(latencies[i]).append('\n');
      }
      try {
        Files.writeString(
            Path.of(dump, variant + "-" + ids[0] + ".txt"), b, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    java.util.Arrays.sort(latencies);
    return latencies;
  }

  /**
   * The database's clock minus this JVM's, in microseconds, and how far off that can be (half the
   * round trip of the best of several readings, as NTP estimates it).
   */
  record ClockOffset(long offsetMicros, long uncertaintyMicros) {}

  ClockOffset clockOffset() throws SQLException {
    long bestRoundTrip = Long.MAX_VALUE;
    long offset = 0;
    try (Connection c = connect();
        PreparedStatement s = c.prepareStatement("SELECT clock_timestamp()")) {
      for (int i = 0; i < 11; i++) {
        Instant before = Instant.now();
        Instant db;
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          db = rs.getObject(1, OffsetDateTime.class).toInstant();
        }
        Instant after = Instant.now();
        long roundTrip = Duration.between(before, after).toNanos() / 1000;
        if (i > 0 && roundTrip < bestRoundTrip) { // the first one warms the statement up
          bestRoundTrip = roundTrip;
          Instant middle = before.plusNanos(roundTrip * 500);
          offset = Duration.between(middle, db).toNanos() / 1000;
        }
      }
    }
    return new ClockOffset(offset, bestRoundTrip / 2);
  }

  private static long count(Connection c, String sql) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private void resetStatements() throws SQLException {
    if (external()) {
      return; // the user's statistics are theirs: never reset, and shared with other traffic
    }
    try (Connection c = connect();
        Statement s = c.createStatement()) {
      s.execute("SELECT pg_stat_statements_reset()");
    }
  }

  /** Statements executed since the reset, by every role and database (calls, top level). */
  private long statements(String where) throws SQLException {
    if (external()) {
      return -1; // not measured on the user's server (see resetStatements)
    }
    try (Connection c = connect()) {
      return count(c, "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements" + where);
    }
  }

  /** CPU nanoseconds per live thread of this JVM, keyed by name and id. */
  private static Map<String, Long> threadCpu() {
    java.lang.management.ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    Map<String, Long> cpu = new HashMap<>();
    for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
      if (t != null) {
        long ns = mx.getThreadCpuTime(t.getThreadId());
        if (ns >= 0) {
          cpu.put(t.getThreadName() + "#" + t.getThreadId(), ns);
        }
      }
    }
    return cpu;
  }

  /** With {@code -Ddump=DIR}: which threads of this JVM used the CPU in the window. */
  private static void dumpThreads(Variant variant, Map<String, Long> from, Map<String, Long> to)
      throws IOException {
    String dump = System.getProperty("dump");
    if (dump == null) {
      return;
    }
    StringBuilder b = new StringBuilder();
    to.entrySet().stream()
        .map(e -> Map.entry(e.getKey(), e.getValue() - from.getOrDefault(e.getKey(), 0L)))
        .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .limit(30)
        .forEach(
            e ->
                b.append(
                    String.format(
                        java.util.Locale.ROOT, "%8.3f s  %s%n", e.getValue() / 1e9, e.getKey())));
    Files.writeString(
        Path.of(dump, variant + "-threads-" + System.nanoTime() + ".txt"),
        b,
        StandardCharsets.UTF_8);
  }

  /** With {@code -Ddump=DIR}: the phase's statements, most called first, for a closer look. */
  private void dumpStatements(Variant variant) throws SQLException, IOException {
    String dump = System.getProperty("dump");
    if (dump == null || external()) {
      return;
    }
    StringBuilder b = new StringBuilder();
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT calls, rows, round(total_exec_time::numeric, 1), query"
                    + " FROM pg_stat_statements ORDER BY calls DESC")) {
      while (rs.next()) {
        b.append(rs.getLong(1))
            .append('\t')
            .append(rs.getLong(2))
            .append('\t')
            .append(rs.getString(3))
            .append('\t')
            .append(rs.getString(4).replaceAll("\\s+", " "))
            .append('\n');
      }
    }
    Files.writeString(
        Path.of(dump, variant + "-statements-" + System.nanoTime() + ".tsv"),
        b,
        StandardCharsets.UTF_8);
  }

  private String walInsertLsn() throws SQLException {
    try (Connection c = connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_current_wal_insert_lsn()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  private long walBytesSince(String lsn) throws SQLException {
    try (Connection c = connect();
        PreparedStatement s =
            c.prepareStatement("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), ?::pg_lsn)")) {
      s.setString(1, lsn);
      try (ResultSet rs = s.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * CPU counters in nanoseconds: all PostgreSQL processes, the walsenders among them, and this JVM.
   * Running processes are read from their scheduler clock (ns); backends that ended meanwhile only
   * from the postmaster's reaped-children ticks (10 ms).
   */
  private record Ticks(long postgres, long walsender, long jvmNanos) {}

  private Ticks ticks() throws IOException {
    long jvmNanos =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    if (external()) {
      return new Ticks(0, 0, jvmNanos); // the server's CPU is not readable from here
    }
    long postmaster = postgres.pid();
    Path own = Path.of("/proc", Long.toString(postmaster));
    long total = Math.max(0, CpuAccounting.cpuNanos(own)) + CpuAccounting.endedChildrenNanos(own);
    long walsender = 0;
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p :
          procs
              .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
              .toList()) {
        if (CpuAccounting.parent(p) != postmaster) {
          continue;
        }
        long t = CpuAccounting.cpuNanos(p);
        if (t < 0) {
          continue; // ended between the listing and the read
        }
        total += t;
        if (cmdline(p).contains("walsender")) {
          walsender += t;
        }
      }
    }
    long jvm =
        ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
            .getProcessCpuTime();
    return new Ticks(total, walsender, jvm);
  }

  private static String cmdline(Path proc) {
    try {
      return new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "";
    }
  }

  private static void await(java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + TIMEOUT + " waiting for: " + what);
      }
      TimeUnit.MILLISECONDS.sleep(20);
    }
  }

  /**
   * Stops the relay of a phase in progress (a run interrupted), closes the pools and, on the user's
   * servers, removes everything the run created; returns what could not be removed, with the
   * statements to remove it by hand (empty: nothing is left).
   */
  synchronized List<String> closeAndClean() {
    closing = true;
    KafkaConsumerRunner consumer = runningConsumer;
    if (consumer != null) {
      try {
        consumer.close(); // leaves the run's consumer group, which can then be deleted
      } catch (RuntimeException e) {
        // the group's deletion below reports it if it stays
      }
      runningConsumer = null;
    }
    Relay relay = running;
    if (relay != null) {
      try {
        relay.close();
      } catch (Exception e) {
        // the cleanup below terminates its walsender if it is still there
      }
      running = null;
    }
    consumerPool.close();
    pollerPool.close();
    writerPool.close();
    List<String> left = List.of();
    if (cleanup != null) {
      left = cleanup.run(TIMEOUT);
    } else {
      admin.close();
      broker.close();
      postgres.close();
    }
    return left;
  }

  @Override
  public void close() {
    closeAndClean();
  }
}

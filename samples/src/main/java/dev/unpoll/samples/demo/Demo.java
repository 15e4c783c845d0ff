package dev.unpoll.samples.demo;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.LegacyRows;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.MigrationException;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.engine.TablePlan;
import dev.unpoll.relay.RelayRunner;
import dev.unpoll.samples.orders.CleanupJob;
import dev.unpoll.samples.orders.HandlingLog;
import dev.unpoll.samples.orders.IntegrationRow;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.samples.orders.OrderService;
import dev.unpoll.samples.orders.ShipmentHandler;
import dev.unpoll.samples.orders.ShippingPoller;
import dev.unpoll.testkit.EmbeddedKafkaBroker;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestPostgres;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * {@code unpoll demo}: one legacy polling integration migrated to events, end to end, on servers it
 * starts itself. Service A inserts orders at a steady rate into {@code shop.order_integration};
 * service B's poller handles them every second. The demo walks the table through analyze → capture
 * → shadow → dual → cutover → retire with the real relay and the real idempotent consumer (running
 * B's unchanged row handler), checking each gate as an operator would, and ends with what happened
 * to every row, read from B's handling log.
 */
public final class Demo implements AutoCloseable {
  /** The migrated table. */
  public static final TableName TABLE = TableName.parse("shop.order_integration");

  static final String GROUP = "shipping";
  static final String PASSWORD_VARIABLE = "UNPOLL_DEMO_DB_PASSWORD";
  static final String SLOT = "unpoll_demo";

  /**
   * How long and how fast.
   *
   * @param rate orders per second service A places
   * @param phaseTime how long the demo stays in each phase before the next gate
   * @param pollInterval the legacy poller's interval
   * @param directory where the servers' binaries and data live
   */
  public record Settings(int rate, Duration phaseTime, Duration pollInterval, Path directory) {
    /** Defaults: 20 orders/s, 8 s per phase, a 1 s poller. */
    public static Settings defaults(Path directory) {
      return new Settings(20, Duration.ofSeconds(8), Duration.ofSeconds(1), directory);
    }
  }

  /**
   * The result, from service B's handling log (every handling, by which path) and the verify.
   *
   * @param produced integration rows service A wrote
   * @param handledByPoller distinct rows the poller handled
   * @param handledByConsumer distinct rows the consumer handled
   * @param missing rows nobody handled
   * @param doubleHandled rows handled more than once
   * @param pollerLatency created → handled by the poller (ms): p50, p99
   * @param consumerLatency created → handled by the consumer (ms): p50, p99
   * @param pollingQueries polling queries the poller ran
   * @param pollingQueriesAvoided polling queries a 1-per-interval poller would have run since it
   *     stopped
   * @param eventsPublished events the relay published
   * @param retries handler attempts the consumer retried
   * @param deadLettered events the consumer sent to the dead-letter topic
   * @param verify the final {@code unpoll verify}
   * @param elapsed how long the demo took
   */
  public record Summary(
      long produced,
      long handledByPoller,
      long handledByConsumer,
      long missing,
      long doubleHandled,
      long[] pollerLatency,
      long[] consumerLatency,
      long pollingQueries,
      long pollingQueriesAvoided,
      long eventsPublished,
      long retries,
      long deadLettered,
      Reconciliation verify,
      Duration elapsed) {
    /** True when every row was handled exactly once and verify found nothing missing. */
    public boolean ok() {
      return missing == 0 && doubleHandled == 0 && verify.ok();
    }
  }

  /** Receives the demo's narration: a step, then its lines. */
  public interface Narrator {
    void step(String title);

    void line(String text);

    void gates(Transition transition);
  }

  private final Settings settings;
  private final Narrator say;
  private final List<AutoCloseable> resources = new ArrayList<>();
  private final Set<Long> producedIds = ConcurrentHashMap.newKeySet();
  private final AtomicLong produceErrors = new AtomicLong();
  private final SimpleMeterRegistry consumerMetrics = new SimpleMeterRegistry();
  private EmbeddedPostgresServer pg;
  private EmbeddedKafkaBroker kafka;
  private TestPostgres db;
  private ScheduledExecutorService producer;
  private ScheduledExecutorService cleanup;
  private ShippingPoller poller;
  private Instant pollerStopped;
  private RelayRunner relay;
  private KafkaConsumerRunner consumer;
  private Migrations migrations;
  private String topic;
  private Path configFile;
  private TablePlan plan;

  public Demo(Settings settings, Narrator narrator) {
    this.settings = Objects.requireNonNull(settings);
    this.say = Objects.requireNonNull(narrator);
  }

  /** Runs the whole demo; the servers stop when it returns. */
  public Summary run() throws Exception {
    long started = System.nanoTime();
    startServers();
    startLegacyWorld();
    Path config = analyzeAndPlan();
    configFile = config;
    capture(config);
    shadow();
    dual();
    cutover();
    retire();
    Summary summary = finish(Duration.ofNanos(System.nanoTime() - started));
    return summary;
  }

  private void startServers() {
    say.step("Starting PostgreSQL 17 (wal_level=logical) and Kafka 4.3 (KRaft) on this machine");
    pg = EmbeddedPostgresServer.builder().baseDirectory(settings.directory()).start();
    resources.add(pg);
    kafka = EmbeddedKafkaBroker.builder().baseDirectory(settings.directory()).start();
    resources.add(kafka);
    db = pg.postgres().createDatabase("shop");
    say.line("PostgreSQL " + db.jdbcUrl() + " (user " + db.user() + ")");
    say.line("Kafka " + kafka.kafka().bootstrapServers());
  }

  private void startLegacyWorld() throws SQLException {
    say.step("The legacy integration, as it runs today");
    DataSource ds = db.dataSource();
    LegacySchema.create(ds);
    OrderService orders = new OrderService(ds);
    producer = daemonScheduler("demo-service-a");
    long periodMicros = 1_000_000L / settings.rate();
    producer.scheduleAtFixedRate(
        () -> {
          try {
            producedIds.add(orders.placeOrder("customer-" + producedIds.size() % 97, price()));
          } catch (SQLException | RuntimeException e) {
            produceErrors.incrementAndGet();
          }
        },
        0,
        periodMicros,
        TimeUnit.MICROSECONDS);
    poller = new ShippingPoller(ds);
    poller.start(settings.pollInterval());
    CleanupJob job = new CleanupJob(ds);
    cleanup = daemonScheduler("demo-cleanup-job");
    cleanup.scheduleWithFixedDelay(
        () -> {
          try {
            job.run(Duration.ofSeconds(10));
          } catch (SQLException | RuntimeException e) {
            // the cleanup job is best effort, as in the legacy system
          }
        },
        2,
        2,
        TimeUnit.SECONDS);
    say.line(
        "service A places "
            + settings.rate()
            + " orders/s; each writes a row into shop.order_integration (status NEW)");
    say.line(
        "service B polls it every "
            + settings.pollInterval().toMillis()
            + " ms: SELECT ... WHERE status = 'NEW' FOR UPDATE SKIP LOCKED, handle, set DONE");
    say.line("a cleanup job deletes DONE rows older than 10 s");
    sleep(Duration.ofSeconds(2));
  }

  private Path analyzeAndPlan() throws Exception {
    say.step("analyze: what the table is and how to map it");
    try (Connection c = db.connect()) {
      plan = TablePlan.analyze(c, TABLE);
    }
    say.line("key: " + plan.key() + ", payload column: " + plan.payloadColumn().orElse("none"));
    plan.statusColumn()
        .ifPresent(
            s ->
                say.line(
                    "status column: "
                        + s
                        + " (pending "
                        + plan.pendingValues()
                        + ", done "
                        + plan.doneValues()
                        + ")"));
    say.line("bookkeeping columns (updates to them emit nothing): " + plan.bookkeepingColumns());
    say.line("verdict: " + plan.verdict());
    topic = plan.topic();

    say.step("plan: the relay's mapping, written to unpoll.yaml");
    String base =
        """
        # written by unpoll demo
        source:
          jdbc-url: %s
          user: %s
          password: ${%s}
          slot: %s
          publication: %s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        http:
          port: 0
        """
            .formatted(
                db.jdbcUrl(),
                db.user(),
                PASSWORD_VARIABLE,
                SLOT,
                SLOT,
                kafka.kafka().bootstrapServers());
    String yaml = plan.mergeInto(base);
    Path file = settings.directory().resolve("unpoll.yaml");
    Files.createDirectories(settings.directory());
    Files.writeString(file, yaml, StandardCharsets.UTF_8);
    say.line(file + ": " + TABLE.display() + " → topic " + topic);
    migrations = Migrations.builder().configFile(file).environment(env()).build();
    return file;
  }

  private void capture(Path config) throws Exception {
    say.step("capture: publication, slot, heartbeat; then the relay starts");
    Transition t = migrations.capture(TABLE, options().build());
    say.gates(t);
    requireApplied(t);
    relay =
        RelayRunner.of(UnpollConfig.parse(Files.readString(config, StandardCharsets.UTF_8), env()));
    resources.add(relay);
    ExecutorService relayThread = Executors.newSingleThreadExecutor(r -> daemon(r, "demo-relay"));
    Future<Integer> exit = relayThread.submit(relay::run);
    relayThread.shutdown();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (!(relay.relay() != null && relay.relay().isStreaming())) {
      if (exit.isDone() || System.nanoTime() > deadline) {
        throw new MigrationException(
            "the relay did not start streaming: "
                + relay.failure().orElse("no error reported within 60 s"),
            null);
      }
      sleep(Duration.ofMillis(100));
    }
    say.line("relay streaming from slot " + SLOT + " (pgoutput) to " + topic);
    sleep(settings.phaseTime());
  }

  private void shadow() {
    say.step("shadow: the new consumer records what it receives, with no side effects");
    Transition t = advance(Phase.SHADOW, options().consumerGroup(GROUP));
    requireApplied(t);
    consumer = consumer(IdempotentConsumer.builder().shadow());
    say.line(
        "consumer group " + GROUP + " writes unpoll_shadow_ledger; the poller still does the work");
    sleep(settings.phaseTime());
  }

  private void dual() throws SQLException {
    say.step("dual: poller and consumer both live; the status claim decides who handles a row");
    Transition t = advance(Phase.DUAL, options());
    requireApplied(t);
    consumer.close();
    ShipmentHandler handler = new ShipmentHandler("consumer");
    // the table, its key and the status values (with what analyze found besides pending and
    // done, never counted as the poller's win) come from the mapping plan wrote to unpoll.yaml
    DualRunClaim claim =
        DualRunClaim.from(UnpollConfig.loadMapping(configFile, TABLE.display(), env()))
            .processedAtColumn("processed_at")
            .build();
    consumer =
        consumer(
            IdempotentConsumer.builder()
                .claim(claim)
                .handler(
                    LegacyRows.handler(
                        (row, connection) ->
                            handler.handle(
                                connection,
                                new IntegrationRow(
                                    row.getLong("id"),
                                    row.getLong("order_id"),
                                    row.getString("event_type"),
                                    row.getString("payload"),
                                    row.getOffsetDateTime("created_at"))))));
    say.line(
        "the consumer runs service B's unchanged ShipmentHandler inside UPDATE ... SET status ="
            + " 'DONE' WHERE id = ? AND status = 'NEW'");
    sleep(settings.phaseTime());
    say.line("so far: poller handled " + handled("poller") + ", consumer " + handled("consumer"));
    poller.stop();
    pollerStopped = Instant.now();
    say.line("operator stops the poller; the consumer runs alone for the cutover window");
    sleep(settings.phaseTime());
  }

  private void cutover() {
    say.step("cutover: no poller claims in the window, backlog empty");
    Duration window = Duration.between(pollerStopped.plusSeconds(1), Instant.now());
    Transition t = advance(Phase.CUTOVER, options().window(window));
    requireApplied(t);
    sleep(settings.phaseTime());
  }

  private void retire() {
    say.step("retire: the cleanup job and the status bookkeeping are no longer needed");
    Duration hold = settings.phaseTime().minusSeconds(1);
    say.line(
        "the demo holds cutover for "
            + hold.toSeconds()
            + " s; the default --hold is "
            + TransitionOptions.DEFAULT_HOLD_TEXT);
    Transition t = advance(Phase.RETIRED, options().hold(hold));
    requireApplied(t);
    cleanup.shutdownNow();
  }

  private Summary finish(Duration elapsed) throws Exception {
    producer.shutdown();
    producer.awaitTermination(10, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (missing() > 0 && System.nanoTime() < deadline) {
      sleep(Duration.ofMillis(200));
    }
    Reconciliation verify = migrations.verify(TABLE, options().settle(Duration.ZERO).build());
    long avoided =
        Duration.between(pollerStopped, Instant.now()).toMillis()
            / settings.pollInterval().toMillis();
    double published =
        relay.meterRegistry().find("unpoll.relay.events").counters().stream()
            .mapToDouble(c -> c.count())
            .sum();
    Summary s =
        new Summary(
            producedIds.size(),
            handled("poller"),
            handled("consumer"),
            missing(),
            doubleHandled(),
            latency("poller"),
            latency("consumer"),
            poller.queries(),
            avoided,
            (long) published,
            consumerCount(ConsumerMetrics.RETRIES),
            consumerCount(ConsumerMetrics.DEAD_LETTERED),
            verify,
            elapsed);
    return s;
  }

  private KafkaConsumerRunner consumer(IdempotentConsumer.Builder builder) {
    IdempotencyStore store = IdempotencyStore.defaults();
    store.createTablesIfAbsent(db.dataSource());
    IdempotentConsumer c =
        builder
            .dataSource(db.dataSource())
            .consumerGroup(GROUP)
            .store(store)
            .meterRegistry(consumerMetrics)
            .build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.kafka().bootstrapServers())
        .topics(topic)
        .consumer(c)
        .pollTimeout(Duration.ofMillis(100))
        .build()
        .start();
  }

  private Transition advance(Phase target, TransitionOptions.Builder options) {
    // Gates compare rows with events and ledgers that trail them by milliseconds: like an operator
    // re-running the command, the demo asks again for a few seconds before giving up.
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    Transition t = migrations.advance(TABLE, target, options.build());
    while (!t.applied() && System.nanoTime() < deadline) {
      sleep(Duration.ofSeconds(1));
      t = migrations.advance(TABLE, target, options.build());
    }
    say.gates(t);
    return t;
  }

  private void requireApplied(Transition t) {
    if (!t.applied()) {
      List<String> failed = new ArrayList<>();
      for (Gate g : t.failedGates()) {
        failed.add(g.name() + ": " + g.detail());
      }
      throw new MigrationException(
          MigrationException.Kind.CHECK_FAILED,
          "the demo stopped: the gate to "
              + t.to().id()
              + " is false: "
              + failed
              + "; "
              + diagnosis(),
          null);
    }
  }

  /** What an operator would look at next when a gate stays false. */
  private String diagnosis() {
    StringBuilder d = new StringBuilder();
    d.append("consumer: retries ")
        .append(consumerCount(ConsumerMetrics.RETRIES))
        .append(", dead-lettered ")
        .append(consumerCount(ConsumerMetrics.DEAD_LETTERED))
        .append(", poller won ")
        .append(consumerCount(ConsumerMetrics.POLLER_WON))
        .append("; pending rows older than 1 s: ");
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT string_agg(id::text, ', ' ORDER BY id) FROM (SELECT id FROM"
                    + " shop.order_integration WHERE status = 'NEW' AND created_at <"
                    + " clock_timestamp() - interval '1 second' ORDER BY id LIMIT 10) p");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      d.append(rs.getString(1) == null ? "none" : rs.getString(1));
    } catch (SQLException e) {
      d.append("unknown (").append(e.getMessage()).append(')');
    }
    return d.toString();
  }

  private long consumerCount(String meter) {
    return (long) consumerMetrics.find(meter).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  private TransitionOptions.Builder options() {
    return TransitionOptions.builder().actor("unpoll-demo").settle(Duration.ofSeconds(1));
  }

  private Map<String, String> env() {
    return Map.of(PASSWORD_VARIABLE, db.password());
  }

  private long handled(String path) {
    return number(
        "SELECT count(DISTINCT integration_id) FROM shipping.handling_log WHERE handled_by = ?",
        path);
  }

  private long doubleHandled() {
    try (Connection c = db.connect()) {
      return HandlingLog.handledMoreThanOnce(c);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot count rows handled twice: " + e.getMessage(), e);
    }
  }

  private long missing() {
    try (Connection c = db.connect()) {
      return HandlingLog.unhandled(c, producedIds);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot count missing rows: " + e.getMessage(), e);
    }
  }

  private long[] latency(String path) {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms),"
                    + " percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) FROM (SELECT"
                    + " extract(epoch FROM handled_at - row_created_at) * 1000 AS ms"
                    + " FROM shipping.handling_log WHERE handled_by = ?) l")) {
      ps.setString(1, path);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new long[] {Math.round(rs.getDouble(1)), Math.round(rs.getDouble(2))};
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot read latencies: " + e.getMessage(), e);
    }
  }

  private long number(String sql, String param) {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement(sql)) {
      if (param != null) {
        ps.setString(1, param);
      }
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private BigDecimal price() {
    return BigDecimal.valueOf(1000 + producedIds.size() % 9000, 2);
  }

  private static ScheduledExecutorService daemonScheduler(String name) {
    return Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  private static void sleep(Duration d) {
    try {
      Thread.sleep(d.toMillis()); // the demo's pacing: it lets the system run for a while
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new MigrationException("interrupted", e);
    }
  }

  /** Stops everything the demo started, in reverse order, and deletes the servers' data. */
  @Override
  public void close() {
    if (producer != null) {
      producer.shutdownNow();
    }
    if (cleanup != null) {
      cleanup.shutdownNow();
    }
    if (consumer != null) {
      consumer.close();
    }
    if (poller != null) {
      poller.close();
    }
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        // keep closing the rest
      }
    }
  }
}

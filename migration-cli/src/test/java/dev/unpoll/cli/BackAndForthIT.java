package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.consumer.LegacyRows;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.migration.internal.Analyzer;
import dev.unpoll.migration.internal.Mapping;
import dev.unpoll.migration.internal.PlanWriter;
import dev.unpoll.migration.internal.TableInfo;
import dev.unpoll.relay.RelayRunner;
import dev.unpoll.samples.orders.HandlingLog;
import dev.unpoll.samples.orders.IntegrationRow;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.samples.orders.OrderService;
import dev.unpoll.samples.orders.ShipmentHandler;
import dev.unpoll.samples.orders.ShippingPoller;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Going back and forward again under load: shadow → dual → rollback to shadow → dual → cutover,
 * with a writer inserting the whole time and the real poller running until cutover. The second
 * {@code dual} must pass its gates (the rows the poller won during the first dual run are known to
 * the ledger), and every row must be handled exactly once in total.
 */
@ExtendWith(UnpollStackExtension.class)
class BackAndForthIT {
  static final TableName TABLE = TableName.parse("shop.order_integration");
  static final String GROUP = "shipping-back-and-forth";
  static final String SLOT = "unpoll_back_forth";
  static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;

  final Set<Long> produced = ConcurrentHashMap.newKeySet();
  final SimpleMeterRegistry consumerMetrics = new SimpleMeterRegistry();
  final AtomicReference<Throwable> writerFailure = new AtomicReference<>();

  @Test
  void rollbackFromDualToShadowAndForwardAgainLosesAndDoublesNothing(
      TestPostgres server, TestKafka kafka) throws Exception {
    TestPostgres db = server.createDatabase("cli_back_and_forth_it");
    DataSource ds = db.dataSource();
    LegacySchema.create(ds);
    IdempotencyStore.defaults().createTablesIfAbsent(ds);
    String topic = kafka.createUniqueTopic("back-and-forth", 3);

    // plan, as `unpoll plan` writes it
    TableInfo info;
    try (Connection c = db.connect()) {
      info = Analyzer.analyze(c, TABLE);
    }
    Mapping mapping = Mapping.propose(info, topic);
    String base =
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${DB_PASSWORD}
          slot: %s
          publication: %s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        http:
          port: 0
        """
            .formatted(db.jdbcUrl(), db.user(), SLOT, SLOT, kafka.bootstrapServers());
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, PlanWriter.merge(base, TABLE, mapping.node()).text());
    Map<String, String> env = Map.of("DB_PASSWORD", db.password());
    Migrations migrations = Migrations.builder().configFile(config).environment(env).build();

    ExecutorService writer = Executors.newSingleThreadExecutor();
    ExecutorService relayThread = Executors.newSingleThreadExecutor();
    ShippingPoller poller = new ShippingPoller(ds);
    RelayRunner relay = null;
    KafkaConsumerRunner consumer = null;
    try {
      // service B polls the whole time until cutover
      poller.start(Duration.ofMillis(200));

      // service A writes the whole time, through capture too: every row committed after the
      // capture window started must reach the topic
      OrderService orders = new OrderService(ds);
      writer.submit(
          () -> {
            try {
              while (!Thread.currentThread().isInterrupted()) {
                produced.add(orders.placeOrder("c" + produced.size() % 7, BigDecimal.TEN));
                TimeUnit.MILLISECONDS.sleep(10); // the writer's pace, not a wait for a result
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } catch (Throwable t) {
              writerFailure.set(t);
            }
          });

      assertApplied(migrations.capture(TABLE, options().build()));
      relay = RelayRunner.of(UnpollConfig.parse(Files.readString(config), env));
      RelayRunner r = relay;
      Future<Integer> relayExit = relayThread.submit(r::run);
      await()
          .atMost(WAIT)
          .until(
              () -> {
                assertThat(relayExit.isDone()).as("relay stopped: %s", r.failure()).isFalse();
                return r.relay() != null && r.relay().isStreaming();
              });

      // shadow
      advance(migrations, Phase.SHADOW, options().consumerGroup(GROUP));
      consumer = consumer(ds, kafka, topic, IdempotentConsumer.builder().shadow());
      awaitCount(ConsumerMetrics.SHADOWED, 50);

      // dual: the claiming consumer starts once the poller has handled rows it has not seen, so
      // the poller wins rows during dual-run as it does in production, and the consumer the rest
      advance(migrations, Phase.DUAL, options());
      consumer.close();
      long polled = poller.handled();
      await().atMost(WAIT).until(() -> poller.handled() >= polled + 20);
      consumer = consumer(ds, kafka, topic, claiming(mapping));
      awaitCount(ConsumerMetrics.POLLER_WON, 20);
      awaitCount(ConsumerMetrics.HANDLED, 20);

      // back to shadow
      assertApplied(migrations.rollback(TABLE, options().reason("back and forth").build()));
      assertThat(migrations.phase(TABLE)).isEqualTo(Phase.SHADOW);
      consumer.close();
      long shadowed = count(ConsumerMetrics.SHADOWED);
      consumer = consumer(ds, kafka, topic, IdempotentConsumer.builder().shadow());
      awaitCount(ConsumerMetrics.SHADOWED, shadowed + 50);

      // forward again: the first dual run's poller wins must be in the ledger
      advance(migrations, Phase.DUAL, options());
      consumer.close();
      consumer = consumer(ds, kafka, topic, claiming(mapping));
      long handled = count(ConsumerMetrics.HANDLED);
      awaitCount(ConsumerMetrics.HANDLED, handled + 50);

      // cutover: the poller stops, the consumer carries the load for a window
      poller.stop();
      Instant stopped = Instant.now();
      handled = count(ConsumerMetrics.HANDLED);
      awaitCount(ConsumerMetrics.HANDLED, handled + 100);
      Duration window = Duration.between(stopped.plusSeconds(1), Instant.now());
      advance(migrations, Phase.CUTOVER, options().window(window));

      // stop writing; everything written is handled, once
      writer.shutdownNow();
      assertThat(writer.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
      assertThat(writerFailure.get()).isNull();
      await().atMost(WAIT).until(() -> missing(ds) == 0);
      assertThat(doubleHandled(ds)).isZero();
      assertThat(number(ds, "SELECT count(*) FROM shipping.handling_log"))
          .isEqualTo(produced.size());
      assertThat(number(ds, "SELECT count(*) FROM shop.order_integration WHERE status <> 'DONE'"))
          .isZero();
    } finally {
      writer.shutdownNow();
      poller.close();
      if (consumer != null) {
        consumer.close();
      }
      if (relay != null) {
        relay.close();
      }
      relayThread.shutdownNow();
      relayThread.awaitTermination(30, TimeUnit.SECONDS);
      try (Connection c = db.connect();
          PreparedStatement ps =
              c.prepareStatement(
                  "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                      + " WHERE slot_name = ? AND NOT active")) {
        ps.setString(1, SLOT);
        ps.execute();
      }
    }
  }

  /** The claim from the planned mapping: its pending, done, in-progress and failed values. */
  static IdempotentConsumer.Builder claiming(Mapping m) {
    ShipmentHandler handler = new ShipmentHandler("consumer");
    DualRunClaim claim =
        DualRunClaim.builder()
            .schema(TABLE.schema())
            .table(TABLE.table())
            .keyColumns("id")
            .statusColumn(m.statusColumn())
            .pendingValues(m.pending().toArray(String[]::new))
            .doneValue(m.done().get(0))
            .inProgressValues(m.inProgress().toArray(String[]::new))
            .failedValues(m.failed().toArray(String[]::new))
            .processedAtColumn("processed_at")
            .build();
    return IdempotentConsumer.builder()
        .claim(claim)
        .handler(
            LegacyRows.handler(
                (row, c) ->
                    handler.handle(
                        c,
                        new IntegrationRow(
                            row.getLong("id"),
                            row.getLong("order_id"),
                            row.getString("event_type"),
                            row.getString("payload"),
                            row.getOffsetDateTime("created_at")))));
  }

  KafkaConsumerRunner consumer(
      DataSource ds, TestKafka kafka, String topic, IdempotentConsumer.Builder builder) {
    IdempotentConsumer c =
        builder.dataSource(ds).consumerGroup(GROUP).meterRegistry(consumerMetrics).build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(c)
        .pollTimeout(Duration.ofMillis(100))
        .build()
        .start();
  }

  static TransitionOptions.Builder options() {
    return TransitionOptions.builder().actor("back-and-forth-it").settle(Duration.ofSeconds(1));
  }

  /** Asks again while the gates trail the rows by a moment, as an operator would. */
  static void advance(Migrations m, Phase target, TransitionOptions.Builder options) {
    AtomicReference<Transition> last = new AtomicReference<>();
    try {
      await()
          .atMost(WAIT)
          .pollInterval(Duration.ofSeconds(1))
          .until(
              () -> {
                last.set(m.advance(TABLE, target, options.build()));
                return last.get().applied();
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(
          "the gate to " + target.id() + " stayed false: " + describe(last.get()), e);
    }
  }

  static void assertApplied(Transition t) {
    assertThat(t.applied()).as(describe(t)).isTrue();
  }

  static String describe(Transition t) {
    if (t == null) {
      return "no transition";
    }
    List<String> failed = new ArrayList<>();
    for (Gate g : t.failedGates()) {
      failed.add(g.name() + ": " + g.detail());
    }
    return failed.toString();
  }

  long count(String meter) {
    return (long) consumerMetrics.find(meter).counters().stream().mapToDouble(c -> c.count()).sum();
  }

  void awaitCount(String meter, long atLeast) {
    await()
        .atMost(WAIT)
        .untilAsserted(
            () -> {
              assertThat(writerFailure.get()).isNull();
              assertThat(count(meter)).as(meter).isGreaterThanOrEqualTo(atLeast);
            });
  }

  long missing(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection()) {
      return HandlingLog.unhandled(c, produced);
    }
  }

  static long doubleHandled(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection()) {
      return HandlingLog.handledMoreThanOnce(c);
    }
  }

  static long number(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection();
        PreparedStatement ps = c.prepareStatement(sql);
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

package dev.unpoll.samples.orders.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.migration.Gate;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.relay.Relay;
import dev.unpoll.samples.orders.boot.inventory.InventoryApplication;
import dev.unpoll.samples.orders.boot.order.OrderApplication;
import dev.unpoll.samples.orders.boot.order.OrderService;
import dev.unpoll.samples.orders.boot.payment.PaymentApplication;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The seed scenario migrated end to end against the real PostgreSQL and Kafka: the order service (a
 * Boot application) writes one integration row per downstream service; inventory and payment first
 * poll their tables (the legacy world); then, through the migration engine behind the {@code
 * unpoll} command, both tables are captured and moved through shadow, dual, cutover and retire
 * (each transition's gates must pass), with the relay publishing the rows and the Boot services, on
 * the starter's idempotent listener container factory, in shadow, then beside the pollers claiming
 * each row (dual), then alone (cutover). Orders keep coming throughout, and every tenth is declined
 * (its transaction rolls back). Each order must be handled exactly once by inventory and exactly
 * once by payment, and a declined order never.
 */
@ExtendWith(UnpollStackExtension.class)
class BootMigrationIT {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final List<Downstream> SERVICES = List.of(Downstream.values());

  static TestPostgres db;
  static TestKafka kafka;
  static ConfigurableApplicationContext orderApp;
  static Path configFile;
  static Map<String, String> env;
  static Migrations migrations;
  static final List<ConfigurableApplicationContext> consumerApps = new ArrayList<>();

  @BeforeAll
  static void setUp(TestPostgres server, TestKafka broker) throws Exception {
    db = server.createDatabase("orders_spring_boot_it");
    kafka = broker;
    LegacySchema.create(db.dataSource());
    IdempotencyStore.builder().build().createTablesIfAbsent(db.dataSource());
    for (Downstream s : SERVICES) {
      kafka.createTopic(s.topic(), 3);
    }
    orderApp = OrderApplication.start(datasourceArgs().toArray(String[]::new));
    env =
        Map.of(
            "DB_URL", db.jdbcUrl(),
            "DB_USER", db.user(),
            "DB_PASSWORD", db.password(),
            "KAFKA", kafka.bootstrapServers());
    configFile = Files.createTempFile("orders-boot-it-", ".yaml");
    Files.writeString(configFile, CONFIG, StandardCharsets.UTF_8);
    migrations = Migrations.builder().configFile(configFile).environment(env).build();
  }

  @AfterAll
  static void tearDown() {
    consumerApps.forEach(ConfigurableApplicationContext::close);
    if (orderApp != null) {
      orderApp.close();
    }
    if (configFile != null) {
      configFile.toFile().delete();
    }
  }

  @Test
  void everyOrderIsHandledOnceByInventoryAndOnceByPaymentAcrossTheMigration() throws Exception {
    OrderService orders = orderApp.getBean(OrderService.class);
    List<Long> placed = new CopyOnWriteArrayList<>();
    List<Long> declined = new CopyOnWriteArrayList<>();

    // --- the legacy world: two pollers, each on its own table
    LegacyPoller inventoryPoller = new LegacyPoller(db.dataSource(), Downstream.INVENTORY);
    LegacyPoller paymentPoller = new LegacyPoller(db.dataSource(), Downstream.PAYMENT);
    inventoryPoller.start(Duration.ofMillis(200));
    paymentPoller.start(Duration.ofMillis(200));
    for (int i = 0; i < 10; i++) {
      placed.add(orders.placeOrder("early-" + i, new BigDecimal("10.50")));
    }
    assertThatThrownBy(() -> orders.placeOrderThenFail("declined-early", BigDecimal.TEN))
        .isInstanceOf(IllegalStateException.class)
        .satisfies(e -> declined.add(declinedId(e)));
    awaitHandled(placed, "poller");

    // --- capture (`unpoll capture`, each table): publication, slot, phase capturing; then the
    // relay, from the same file, publishes the inserts of both tables
    for (Downstream s : SERVICES) {
      assertThat(migrations.capture(Migrations.table(s.table()), options().build()).applied())
          .as("capture %s", s.table())
          .isTrue();
    }
    try (Relay relay = startRelay();
        Traffic traffic = new Traffic(orders, placed, declined)) {
      await().atMost(WAIT).until(relay::isStreaming);
      int captured = placed.size(); // orders from here on are committed after the slot exists
      traffic.start();

      // --- shadow (`unpoll shadow --group <service>`): gate events-complete; then the Boot
      // services record every event in the ledger; the pollers do the work
      await().atMost(WAIT).until(() -> placed.size() >= captured + 10);
      for (Downstream s : SERVICES) {
        advance(s, Phase.SHADOW, options().consumerGroup(s.service()));
      }
      startConsumers("shadow");
      await().atMost(WAIT).until(() -> placed.size() >= captured + 40);
      List<Long> shadowWindow = List.copyOf(placed.subList(captured, placed.size()));
      for (Downstream s : SERVICES) {
        await()
            .atMost(WAIT)
            .untilAsserted(
                () ->
                    assertThat(
                            longs(
                                "SELECT substring(idempotency_key from '[0-9]+$')::bigint"
                                    + " FROM unpoll_shadow_ledger WHERE consumer_group = '"
                                    + s.service()
                                    + "'"))
                        .as("%s rows in the shadow ledger", s.service())
                        .containsAll(integrationIds(s, shadowWindow)));
      }
      awaitHandled(shadowWindow, "poller");
      assertThat(count("SELECT count(*) FROM unpoll_processed")).isZero();
      for (Downstream s : SERVICES) {
        assertThat(count("SELECT count(*) FROM " + log(s) + " WHERE handled_by <> 'poller'"))
            .isZero();
      }

      // --- dual (`unpoll dual`): gates events-complete and ledger-matches; then the services claim
      // each row through the poller's transition, beside the pollers
      for (Downstream s : SERVICES) {
        advance(s, Phase.DUAL, options());
      }
      stopConsumers();
      startConsumers("claim");
      long consumerBefore = count("SELECT count(*) FROM inventory.handling_log");
      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                for (Downstream s : SERVICES) {
                  assertThat(
                          count(
                              "SELECT count(*) FROM " + log(s) + " WHERE handled_by = 'consumer'"))
                      .as("%s rows handled by the Boot service during dual", s.service())
                      .isGreaterThanOrEqualTo(20);
                }
              });
      assertThat(count("SELECT count(*) FROM inventory.handling_log"))
          .isGreaterThan(consumerBefore);

      // --- cutover: the pollers stop; the Boot services go on alone; `unpoll cutover` over a
      // window
      // that starts after the pollers stopped (no poller claims, no backlog, no double handling)
      inventoryPoller.stop();
      paymentPoller.stop();
      Instant pollersStopped = Instant.now();
      long cutoverOrder = count("SELECT coalesce(max(id), 0) FROM shop.orders");
      await()
          .atMost(WAIT)
          .until(() -> placed.stream().filter(id -> id > cutoverOrder).count() >= 40);
      for (Downstream s : SERVICES) {
        advance(
            s,
            Phase.CUTOVER,
            () -> options().window(Duration.between(pollersStopped.plusSeconds(1), Instant.now())));
      }
      traffic.close();
      awaitHandled(placed, null);

      // --- retire (`unpoll retire`, a short hold for the test) and `unpoll verify`
      for (Downstream s : SERVICES) {
        advance(s, Phase.RETIRED, options().hold(Duration.ofSeconds(1)));
        Reconciliation verify =
            migrations.verify(
                Migrations.table(s.table()),
                options().consumerGroup(s.service()).settle(Duration.ZERO).build());
        assertThat(verify.failures()).as("verify %s", s.table()).isEmpty();
        assertThat(migrations.phase(Migrations.table(s.table()))).isEqualTo(Phase.RETIRED);
        assertThat(
                count(
                    "SELECT count(*) FROM unpoll.migration_log WHERE table_name = '"
                        + s.table()
                        + "'"))
            .as("transitions logged: capture, shadow, dual, cutover, retire")
            .isEqualTo(5);
      }

      // after cutover only the Boot services handled rows
      for (Downstream s : SERVICES) {
        assertThat(
                longs(
                    "SELECT count(*) FROM "
                        + log(s)
                        + " WHERE order_id > "
                        + cutoverOrder
                        + " AND handled_by <> 'consumer'"))
            .containsExactly(0L);
      }
      assertThat(relay.isHealthy()).as("relay healthy: %s", relay.lastError()).isTrue();
    } finally {
      inventoryPoller.stop();
      paymentPoller.stop();
      stopConsumers();
    }

    // each order handled exactly once by each service, its effect applied once
    assertThat(declined).hasSizeGreaterThanOrEqualTo(5);
    for (Downstream s : SERVICES) {
      assertThat(longs("SELECT order_id FROM " + log(s)))
          .as("orders %s handled, each once", s.service())
          .containsExactlyInAnyOrderElementsOf(placed);
      assertThat(
              longs(
                  "SELECT integration_id FROM "
                      + log(s)
                      + " GROUP BY integration_id HAVING count(*) > 1"))
          .as("%s rows handled twice", s.service())
          .isEmpty();
      assertThat(
              longs(
                  "SELECT order_id FROM "
                      + log(s)
                      + " WHERE order_id = ANY("
                      + array(declined)
                      + ")"))
          .as("declined orders handled by %s", s.service())
          .isEmpty();
    }
    assertThat(longs("SELECT id FROM shop.orders WHERE id = ANY(" + array(declined) + ")"))
        .as("declined orders stored")
        .isEmpty();
    assertThat(longs("SELECT order_id FROM inventory.reservations"))
        .containsExactlyInAnyOrderElementsOf(placed);
    assertThat(
            count(
                "SELECT count(*) FROM payment.charges c JOIN shop.orders o ON o.id = c.order_id"
                    + " WHERE c.amount = o.amount"))
        .as("charges of the order's amount, through the payload")
        .isEqualTo(placed.size());
    // the Boot services' keys: one per row they handled, in their own group
    for (Downstream s : SERVICES) {
      assertThat(
              count(
                  "SELECT count(*) FROM unpoll_processed WHERE consumer_group = '"
                      + s.service()
                      + "'"))
          .isEqualTo(count("SELECT count(*) FROM " + log(s) + " WHERE handled_by = 'consumer'"));
    }
  }

  /** The relay's file, as `unpoll plan` writes it for the two tables (the walk-through's). */
  private static final String CONFIG =
      """
      source:
        jdbc-url: ${DB_URL}
        user: ${DB_USER}
        password: ${DB_PASSWORD}
        slot: unpoll_orders_boot_it
        publication: unpoll_orders_boot_it
        heartbeat-interval: 1s
      kafka:
        bootstrap-servers: ${KAFKA}
      tables:
        - table: shop.inventory_integration
          topic: shop.inventory-integration
          key: [id]
          value: row
          payload-column: payload
          bookkeeping-columns: [status, processed_at, retry_count]
          status: {column: status, pending: [NEW], done: [DONE], in-progress: [PROCESSING], failed: [FAILED]}
          backlog: true
          created-at-column: created_at
          processed-at-column: processed_at
        - table: shop.payment_integration
          topic: shop.payment-integration
          key: [id]
          value: row
          payload-column: payload
          bookkeeping-columns: [status, processed_at, retry_count]
          status: {column: status, pending: [NEW], done: [DONE], in-progress: [PROCESSING], failed: [FAILED]}
          backlog: true
          created-at-column: created_at
          processed-at-column: processed_at
      http:
        port: 0
      """;

  private static Relay startRelay() {
    Relay relay = Relay.builder().config(UnpollConfig.parse(CONFIG, env)).build();
    relay.start();
    return relay;
  }

  private static TransitionOptions.Builder options() {
    return TransitionOptions.builder().actor("boot-migration-it").settle(Duration.ofSeconds(1));
  }

  private static void advance(Downstream s, Phase target, TransitionOptions.Builder options) {
    advance(s, target, () -> options);
  }

  /**
   * Asks for the transition until its gates pass, as an operator re-runs the command: the gates
   * compare rows with events and ledgers that trail them by moments.
   */
  private static void advance(
      Downstream s, Phase target, Supplier<TransitionOptions.Builder> options) {
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofSeconds(1))
        .untilAsserted(
            () -> {
              Transition t =
                  migrations.advance(Migrations.table(s.table()), target, options.get().build());
              assertThat(t.failedGates().stream().map(Gate::detail).toList())
                  .as("failed gates of %s → %s", s.table(), target)
                  .isEmpty();
              assertThat(t.applied()).isTrue();
            });
  }

  private static List<String> datasourceArgs() {
    return List.of(
        "--spring.datasource.url=" + db.jdbcUrl(),
        "--spring.datasource.username=" + db.user(),
        "--spring.datasource.password=" + db.password());
  }

  private static void startConsumers(String mode) {
    List<String> args = new ArrayList<>(datasourceArgs());
    args.add("--spring.kafka.bootstrap-servers=" + kafka.bootstrapServers());
    args.add("--orders.mode=" + mode);
    String[] a = args.toArray(String[]::new);
    consumerApps.add(InventoryApplication.start(a));
    consumerApps.add(PaymentApplication.start(a));
  }

  private static void stopConsumers() {
    consumerApps.forEach(ConfigurableApplicationContext::close);
    consumerApps.clear();
  }

  /** Waits until every order in {@code orderIds} is in both handling logs (by {@code path}). */
  private static void awaitHandled(List<Long> orderIds, String path) {
    List<Long> expected = List.copyOf(orderIds);
    for (Downstream s : SERVICES) {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(
                          longs(
                              "SELECT DISTINCT order_id FROM "
                                  + log(s)
                                  + (path == null ? "" : " WHERE handled_by = '" + path + "'")))
                      .as("orders handled by %s", s.service())
                      .containsAll(expected));
    }
  }

  private static List<Long> integrationIds(Downstream s, List<Long> orderIds) throws SQLException {
    return longs("SELECT id FROM " + s.table() + " WHERE order_id = ANY(" + array(orderIds) + ")");
  }

  private static String log(Downstream s) {
    return s.service() + ".handling_log";
  }

  private static String array(List<Long> ids) {
    return "ARRAY[" + String.join(",", ids.stream().map(String::valueOf).toList()) + "]::bigint[]";
  }

  private static long declinedId(Throwable e) {
    String m = e.getMessage();
    return Long.parseLong(m.substring(m.lastIndexOf(' ') + 1));
  }

  private static long count(String sql) throws SQLException {
    return longs(sql).get(0);
  }

  private static List<Long> longs(String sql) throws SQLException {
    List<Long> out = new ArrayList<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getLong(1));
      }
    }
    return out;
  }

  /** Customers placing an order every 50 ms; every tenth is declined (rolled back). */
  private static final class Traffic implements AutoCloseable {
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
    private final OrderService orders;
    private final List<Long> placed;
    private final List<Long> declined;

    Traffic(OrderService orders, List<Long> placed, List<Long> declined) {
      this.orders = orders;
      this.placed = placed;
      this.declined = declined;
    }

    void start() {
      AtomicLong n = new AtomicLong();
      Function<Long, String> customer = i -> "customer-" + i;
      scheduler.scheduleWithFixedDelay(
          () -> {
            long i = n.incrementAndGet();
            if (i % 10 == 0) {
              try {
                orders.placeOrderThenFail(customer.apply(i), new BigDecimal("99.00"));
              } catch (IllegalStateException e) {
                declined.add(declinedId(e));
              }
            } else {
              placed.add(orders.placeOrder(customer.apply(i), new BigDecimal("10.50")));
            }
          },
          0,
          50,
          TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      scheduler.shutdown();
      scheduler.awaitTermination(30, TimeUnit.SECONDS);
    }
  }
}

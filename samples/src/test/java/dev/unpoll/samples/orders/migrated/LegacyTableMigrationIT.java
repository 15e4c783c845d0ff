package dev.unpoll.samples.orders.migrated;

import static dev.unpoll.samples.orders.migrated.Db.count;
import static dev.unpoll.samples.orders.migrated.Db.header;
import static dev.unpoll.samples.orders.migrated.Db.longs;
import static dev.unpoll.samples.orders.migrated.Db.strings;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.samples.orders.CleanupJob;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.samples.orders.OrderService;
import dev.unpoll.samples.orders.ShippingPoller;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole migration of {@code shop.order_integration} with traffic flowing throughout: capture
 * (relay), shadow (ledger only), dual-run (poller and claiming consumer race for every row),
 * cutover (poller stopped, consumer alone). Every row must be shipped exactly once in total.
 */
@ExtendWith(UnpollStackExtension.class)
class LegacyTableMigrationIT {
  private static final Logger LOG = LoggerFactory.getLogger(LegacyTableMigrationIT.class);
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String TOPIC = RelayConfigs.LEGACY_TOPIC;

  static TestPostgres db;
  static TestKafka kafka;

  @BeforeAll
  static void schema(TestPostgres server, TestKafka broker) throws Exception {
    db = server.createDatabase("samples_legacy_migration_it");
    kafka = broker;
    LegacySchema.create(db.dataSource());
    IdempotencyStore.builder().build().createTablesIfAbsent(db.dataSource());
    kafka.createTopic(TOPIC, 3);
  }

  @Test
  void everyRowIsShippedExactlyOnceAcrossShadowDualRunAndCutover() throws Exception {
    SimpleMeterRegistry relayMetrics = new SimpleMeterRegistry();
    SimpleMeterRegistry consumerMetrics = new SimpleMeterRegistry();
    OrderService orders = new OrderService(db.dataSource());
    CleanupJob cleanup = new CleanupJob(db.dataSource());

    // rows service A wrote before capture started: the relay's backlog hand-over publishes them
    List<Long> backlog = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      backlog.add(orders.placeOrder("early-" + i, new BigDecimal("9.90")));
    }

    long pollerHandledBeforeDual;
    long pollerHandledAtCutover;
    long cutoverId;
    List<Long> all = new ArrayList<>(backlog);
    try (Relay relay = startRelay(relayMetrics);
        ShippingPoller poller = new ShippingPoller(db.dataSource())) {
      await().atMost(WAIT).until(relay::isStreaming);

      try (Repeating traffic =
              new Repeating(
                  "order-traffic",
                  Duration.ofMillis(25),
                  n -> orders.placeOrder("customer-" + n, new BigDecimal("10.50")));
          Repeating cleanupRuns =
              new Repeating(
                  "cleanup-job", Duration.ofMillis(500), n -> cleanup.run(Duration.ofSeconds(1)))) {
        // a legacy poller polls every few seconds; 200 ms keeps the test short
        poller.start(Duration.ofMillis(200));

        // --- shadow: the consumer only records what it receives; the poller ships everything
        try (KafkaConsumerRunner shadow =
            ShippingConsumer.run(
                ShippingConsumer.shadow(db.dataSource(), consumerMetrics),
                kafka.bootstrapServers(),
                TOPIC)) {
          await().atMost(WAIT).until(() -> traffic.results().size() >= 60);
          List<String> window =
              concat(backlog, traffic.results()).stream().map(id -> key(id)).toList();
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () ->
                      assertThat(
                              strings(
                                  db,
                                  "SELECT idempotency_key FROM unpoll_shadow_ledger"
                                      + " WHERE consumer_group = '"
                                      + ShippingConsumer.SHADOW_GROUP
                                      + "'"))
                          .containsAll(window));
          // the gate to dual-run: the ledger matches what the poller processed
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () ->
                      assertThat(
                              strings(
                                  db,
                                  "SELECT 'shop.order_integration:' || integration_id"
                                      + " FROM shipping.handling_log WHERE handled_by = 'poller'"))
                          .containsAll(window));
          assertThat(count(db, "SELECT count(*) FROM unpoll_processed")).isZero();
          assertThat(
                  count(
                      db,
                      "SELECT count(*) FROM shipping.handling_log WHERE handled_by <> 'poller'"))
              .isZero();
        }

        // --- dual-run: poller and claiming consumer both live; the status claim decides
        pollerHandledBeforeDual = poller.handled();
        long consumerBeforeDual = consumerHandled();
        try (KafkaConsumerRunner claiming =
            ShippingConsumer.run(
                ShippingConsumer.claiming(db.dataSource(), consumerMetrics),
                kafka.bootstrapServers(),
                TOPIC)) {
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () -> {
                    assertThat(consumerHandled() - consumerBeforeDual)
                        .as("rows shipped by the consumer during dual-run")
                        .isGreaterThanOrEqualTo(20);
                    assertThat(poller.handled() - pollerHandledBeforeDual)
                        .as("rows shipped by the poller during dual-run")
                        .isGreaterThanOrEqualTo(5);
                  });
          assertThat(sum(consumerMetrics, ConsumerMetrics.POLLER_WON))
              .as("events whose row the poller had already shipped")
              .isPositive();

          // --- cutover: the poller stops; the consumer keeps claiming, alone
          poller.stop();
          pollerHandledAtCutover = poller.handled();
          LOG.info(
              "dual-run: poller shipped {} rows, consumer {}; {} events found their row shipped",
              pollerHandledAtCutover - pollerHandledBeforeDual,
              consumerHandled() - consumerBeforeDual,
              (long) sum(consumerMetrics, ConsumerMetrics.POLLER_WON));
          cutoverId = count(db, "SELECT last_value FROM shop.order_integration_id_seq");
          long cut = cutoverId;
          await()
              .atMost(WAIT)
              .until(() -> traffic.results().stream().filter(id -> id > cut).count() >= 80);
          traffic.close();
          all.addAll(traffic.results());
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () ->
                      assertThat(
                              count(
                                  db,
                                  "SELECT count(DISTINCT integration_id) FROM shipping.handling_log"))
                          .isEqualTo(all.size()));

          // at-least-once: the relay sends every event again (as after a crash before its offset
          // flush). Rows the consumer shipped are duplicates by key; rows the poller shipped fail
          // the claim again, as won by the poller or, once the cleanup job deleted them, as
          // deleted. Nothing is shipped twice (checked below).
          double seenBefore =
              sum(consumerMetrics, ConsumerMetrics.DUPLICATES)
                  + sum(consumerMetrics, ConsumerMetrics.POLLER_WON)
                  + sum(consumerMetrics, ConsumerMetrics.ROW_DELETED);
          List<ConsumerRecord<byte[], byte[]>> published =
              kafka.readFromBeginning(TOPIC, all.size() + 1, Duration.ofSeconds(5));
          assertExactlyTheInserts(published, all);
          int resent = resend(published);
          await()
              .atMost(WAIT)
              .untilAsserted(
                  () ->
                      assertThat(
                              sum(consumerMetrics, ConsumerMetrics.DUPLICATES)
                                  + sum(consumerMetrics, ConsumerMetrics.POLLER_WON)
                                  + sum(consumerMetrics, ConsumerMetrics.ROW_DELETED)
                                  - seenBefore)
                          .isEqualTo(resent));
        }
        poller.stop();
      }
      // the poller's and the claim's status updates and the cleanup job's deletes reached the
      // relay, which dropped them (the topic holds only the inserts, checked above)
      await()
          .atMost(WAIT)
          .untilAsserted(
              () -> {
                assertThat(
                        skipped(relayMetrics, "update")
                            + skipped(relayMetrics, "bookkeeping-update"))
                    .as("status updates seen by the relay")
                    .isGreaterThanOrEqualTo(all.size());
                assertThat(skipped(relayMetrics, "delete")).as("cleanup deletes").isPositive();
              });
      assertThat(relay.isHealthy()).as("relay healthy: %s", relay.lastError()).isTrue();
    }

    // every integration row was handled exactly once in total
    assertThat(
            longs(
                db,
                "SELECT integration_id FROM shipping.handling_log"
                    + " GROUP BY integration_id HAVING count(*) > 1"))
        .as("rows handled twice")
        .isEmpty();
    assertThat(longs(db, "SELECT integration_id FROM shipping.handling_log"))
        .containsExactlyInAnyOrderElementsOf(all);
    assertThat(count(db, "SELECT count(*) FROM shipping.shipments")).isEqualTo(all.size());
    assertThat(
            count(
                db,
                "SELECT count(*) FROM shipping.shipments s JOIN shop.orders o ON o.id = s.order_id"
                    + " WHERE s.customer = o.customer"))
        .as("shipments whose customer came through the payload intact")
        .isEqualTo(all.size());

    // both paths shipped rows during dual-run; the poller's counter agrees with the log
    assertThat(pollerHandledAtCutover).isGreaterThan(pollerHandledBeforeDual);
    assertThat(count(db, "SELECT count(*) FROM shipping.handling_log WHERE handled_by = 'poller'"))
        .isEqualTo(pollerHandledAtCutover);

    // after cutover only the consumer
    assertThat(
            strings(
                db,
                "SELECT DISTINCT handled_by FROM shipping.handling_log"
                    + " WHERE integration_id > "
                    + cutoverId))
        .containsExactly("consumer");
    assertThat(all.stream().filter(id -> id > cutoverId).count()).isGreaterThanOrEqualTo(80);
  }

  /**
   * The relay published exactly the inserts: one event per row, none for the status updates or the
   * cleanup job's deletes it saw.
   */
  private static void assertExactlyTheInserts(
      List<ConsumerRecord<byte[], byte[]>> records, List<Long> rows) {
    assertThat(records.stream().map(r -> header(r, "ce_id")).toList())
        .containsExactlyInAnyOrderElementsOf(rows.stream().map(id -> key(id)).toList());
    assertThat(records.stream().map(r -> header(r, "ce_type")).collect(Collectors.toSet()))
        .containsExactly("shop.order_integration.inserted");
    assertThat(records)
        .allSatisfy(
            r ->
                assertThat(new String(r.value(), StandardCharsets.UTF_8))
                    .contains("\"order_id\"")
                    .doesNotContain("\"status\"")
                    .doesNotContain("\"processed_at\""));
  }

  private static Relay startRelay(MeterRegistry registry) {
    // tag::relay[]
    Map<String, String> env =
        Map.of(
            "ORDERS_DB_URL", db.jdbcUrl(),
            "ORDERS_DB_USER", db.user(),
            "ORDERS_DB_PASSWORD", db.password(),
            "KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers());
    UnpollConfig config = RelayConfigs.load(RelayConfigs.LEGACY, env); // lists every problem
    Relay relay = Relay.builder().config(config).meterRegistry(registry).build();
    relay.start(); // pre-flight checks, publication, slot; then streams in the background
    // end::relay[]
    return relay;
  }

  /** Produces the records again, with their keys, values and headers. */
  private static int resend(List<ConsumerRecord<byte[], byte[]>> records) throws Exception {
    List<Future<RecordMetadata>> sent = new ArrayList<>();
    try (KafkaProducer<byte[], byte[]> producer = kafka.newProducer()) {
      for (ConsumerRecord<byte[], byte[]> r : records) {
        sent.add(producer.send(new ProducerRecord<>(TOPIC, null, r.key(), r.value(), r.headers())));
      }
      for (Future<RecordMetadata> f : sent) {
        f.get(); // acknowledged, or the test fails here
      }
    }
    return records.size();
  }

  private static String key(long id) {
    return "shop.order_integration:" + id;
  }

  private static List<Long> concat(List<Long> a, List<Long> b) {
    List<Long> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static long consumerHandled() throws Exception {
    return count(db, "SELECT count(*) FROM shipping.handling_log WHERE handled_by = 'consumer'");
  }

  private static double sum(MeterRegistry registry, String name) {
    return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static double skipped(MeterRegistry registry, String reason) {
    return registry.find("unpoll.relay.skipped").tag("reason", reason).counters().stream()
        .mapToDouble(Counter::count)
        .sum();
  }
}

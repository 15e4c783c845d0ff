package dev.unpoll.samples.orders.migrated;

import static dev.unpoll.samples.orders.migrated.Db.count;
import static dev.unpoll.samples.orders.migrated.Db.header;
import static dev.unpoll.samples.orders.migrated.Db.longs;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.relay.Relay;
import dev.unpoll.samples.orders.LegacySchema;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The outbox variant: service A writes its order and an {@code OrderPlaced} event in one
 * transaction (TABLE strategy, delete-after-insert), the relay publishes it to {@code
 * outbox.order}, and service B's idempotent consumer ships each order once, also when Kafka
 * delivers the same event twice.
 */
@ExtendWith(UnpollStackExtension.class)
class OutboxMigrationIT {
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String TOPIC = RelayConfigs.OUTBOX_TOPIC;

  static TestPostgres db;
  static TestKafka kafka;
  static Relay relay;
  static final SimpleMeterRegistry relayMetrics = new SimpleMeterRegistry();

  @BeforeAll
  static void start(TestPostgres server, TestKafka broker) throws Exception {
    db = server.createDatabase("samples_outbox_migration_it");
    kafka = broker;
    LegacySchema.create(db.dataSource()); // shop.orders and service B's shipping tables
    OrderServiceWithOutbox.createOutboxTable(db.dataSource());
    IdempotencyStore.builder().build().createTablesIfAbsent(db.dataSource());
    kafka.createTopic(TOPIC, 3);
    relay =
        Relay.builder()
            .config(RelayConfigs.load(RelayConfigs.OUTBOX, Db.relayEnv(db, kafka)))
            .meterRegistry(relayMetrics)
            .build();
    relay.start();
    await().atMost(WAIT).until(relay::isStreaming);
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void eachOrderIsShippedOnceAndTheOutboxTableStaysEmpty() throws Exception {
    OrderServiceWithOutbox orders = new OrderServiceWithOutbox(db.dataSource());
    SimpleMeterRegistry consumerMetrics = new SimpleMeterRegistry();
    List<Long> placed;
    try (KafkaConsumerRunner consumer =
        ShippingConsumer.run(
            ShippingConsumer.forOutboxEvents(db.dataSource(), consumerMetrics),
            kafka.bootstrapServers(),
            TOPIC)) {
      try (Repeating traffic =
          new Repeating(
              "outbox-order-traffic",
              Duration.ofMillis(20),
              n -> orders.placeOrder("customer-" + n, new BigDecimal("12.30")))) {
        await().atMost(WAIT).until(() -> traffic.results().size() >= 150);
        traffic.close();
        placed = traffic.results();
      }
      await()
          .atMost(WAIT)
          .untilAsserted(() -> assertThat(loggedOnce(placed)).isEqualTo(placed.size()));
    }
    assertThat(handlings(placed)).containsExactlyInAnyOrderElementsOf(placed);
    assertThat(count(db, "SELECT count(*) FROM shipping.shipments WHERE order_id IN " + in(placed)))
        .isEqualTo(placed.size());
    assertThat(
            count(
                db,
                "SELECT count(*) FROM shipping.shipments s JOIN shop.orders o ON o.id = s.order_id"
                    + " WHERE s.customer = o.customer AND s.order_id IN "
                    + in(placed)))
        .isEqualTo(placed.size());
    assertThat(sum(consumerMetrics, ConsumerMetrics.HANDLED)).isEqualTo(placed.size());

    // delete-after-insert: the table stays empty, and the relay drops the deletes
    assertThat(count(db, "SELECT count(*) FROM public.unpoll_outbox")).isZero();
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThat(skipped(relayMetrics, "outbox-delete"))
                    .isGreaterThanOrEqualTo(placed.size()));
    List<ConsumerRecord<byte[], byte[]>> events = eventsOf(placed);
    assertThat(events).hasSize(placed.size());
    assertThat(events)
        .allSatisfy(
            r -> {
              assertThat(header(r, "ce_type")).isEqualTo("OrderPlaced");
              assertThat(new String(r.value(), StandardCharsets.UTF_8))
                  .startsWith("{")
                  .contains("\"orderId\":" + new String(r.key(), StandardCharsets.UTF_8));
            });
  }

  @Test
  void anEventDeliveredAgainIsSkippedAsADuplicate() throws Exception {
    OrderServiceWithOutbox orders = new OrderServiceWithOutbox(db.dataSource());
    Map<TopicPartition, OffsetAndMetadata> before = endOffsets();
    List<Long> placed =
        List.of(
            orders.placeOrder("dup-1", BigDecimal.ONE),
            orders.placeOrder("dup-2", BigDecimal.TEN),
            orders.placeOrder("dup-3", new BigDecimal("3.33")));

    SimpleMeterRegistry first = new SimpleMeterRegistry();
    try (KafkaConsumerRunner consumer =
        ShippingConsumer.run(
            ShippingConsumer.forOutboxEvents(db.dataSource(), first),
            kafka.bootstrapServers(),
            TOPIC)) {
      await()
          .atMost(WAIT)
          .untilAsserted(() -> assertThat(loggedOnce(placed)).isEqualTo(placed.size()));
    }

    // 1. the relay sends a record again (it resumes from its last offset flush after a crash)
    List<ConsumerRecord<byte[], byte[]>> events = eventsOf(placed);
    assertThat(events).hasSize(placed.size());
    try (KafkaProducer<byte[], byte[]> producer = kafka.newProducer()) {
      for (ConsumerRecord<byte[], byte[]> r : events) {
        producer.send(new ProducerRecord<>(TOPIC, null, r.key(), r.value(), r.headers())).get();
      }
    }
    // 2. the consumer died after its database commit, before its offset commit: the group's
    // offsets are where they were before these events
    await() // the broker may still be removing the closed consumer from the group
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              kafka.admin().alterConsumerGroupOffsets(ShippingConsumer.GROUP, before).all().get();
              return true;
            });

    SimpleMeterRegistry second = new SimpleMeterRegistry();
    try (KafkaConsumerRunner consumer =
        ShippingConsumer.run(
            ShippingConsumer.forOutboxEvents(db.dataSource(), second),
            kafka.bootstrapServers(),
            TOPIC)) {
      await()
          .atMost(WAIT)
          .untilAsserted(
              () ->
                  assertThat(sum(second, ConsumerMetrics.DUPLICATES))
                      .as("each event twice: redelivered and re-produced")
                      .isEqualTo(2.0 * placed.size()));
    }
    assertThat(sum(second, ConsumerMetrics.HANDLED)).isZero();
    assertThat(handlings(placed)).containsExactlyInAnyOrderElementsOf(placed);
  }

  /** How many of {@code orderIds} have at least one handling. */
  private static long loggedOnce(List<Long> orderIds) throws Exception {
    return count(
        db,
        "SELECT count(DISTINCT integration_id) FROM shipping.handling_log WHERE integration_id IN "
            + in(orderIds));
  }

  /** Every handling of {@code orderIds}: an id twice means the order was shipped twice. */
  private static List<Long> handlings(List<Long> orderIds) throws Exception {
    return longs(
        db,
        "SELECT integration_id FROM shipping.handling_log WHERE integration_id IN " + in(orderIds));
  }

  private static String in(List<Long> ids) {
    return ids.stream().map(String::valueOf).collect(Collectors.joining(",", "(", ")"));
  }

  /** The relay's records of these orders (record key = aggregate id = order id). */
  private static List<ConsumerRecord<byte[], byte[]>> eventsOf(List<Long> orderIds) {
    Set<String> keys = orderIds.stream().map(String::valueOf).collect(Collectors.toSet());
    return kafka.readFromBeginning(TOPIC, Integer.MAX_VALUE, Duration.ofSeconds(3)).stream()
        .filter(r -> keys.contains(new String(r.key(), StandardCharsets.UTF_8)))
        .toList();
  }

  private static Map<TopicPartition, OffsetAndMetadata> endOffsets() throws Exception {
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < 3; p++) {
      latest.put(new TopicPartition(TOPIC, p), OffsetSpec.latest());
    }
    Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends =
        kafka.admin().listOffsets(latest).all().get();
    Map<TopicPartition, OffsetAndMetadata> out = new HashMap<>();
    ends.forEach((tp, info) -> out.put(tp, new OffsetAndMetadata(info.offset())));
    return out;
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

package dev.unpoll.spring.boot.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.ConsumerMetrics;
import dev.unpoll.consumer.DeadLetterHeaders;
import dev.unpoll.consumer.IdempotencyStore;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.outbox.Outbox;
import dev.unpoll.relay.Relay;
import dev.unpoll.spring.boot.IdempotencyStoreHealthIndicator;
import dev.unpoll.spring.boot.OutboxHealthIndicator;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStack;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The starter end to end against the real PostgreSQL and Kafka: {@link OrderService} writes orders
 * through the auto-configured outbox in {@code @Transactional} methods, a real relay (its own slot
 * and topic) carries the outbox to Kafka, and {@link ShippingListener} ships each order through the
 * starter's idempotent listener container factory. The servers' addresses come from the testkit
 * ({@link DynamicPropertySource}); the rest is the shop's {@code application.properties}.
 */
@SpringBootTest // settings: src/test/resources/application.properties
@DirtiesContext
class StarterIT {
  private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 8);
  private static final String TOPIC = "boot-order-" + SUFFIX;
  private static final String GROUP = "shop-shipping";
  private static final Duration LONG = Duration.ofSeconds(60);

  private static TestPostgres db;
  private static Relay relay;

  @Autowired OrderService orders;
  @Autowired JdbcTemplate jdbc;
  @Autowired MeterRegistry meters;
  @Autowired OutboxHealthIndicator outboxHealth;
  @Autowired IdempotencyStoreHealthIndicator storeHealth;

  /** The database, its tables and the topic, once: before the context and the relay start. */
  private static synchronized TestPostgres database() throws SQLException {
    if (db == null) {
      UnpollStack stack = UnpollStack.shared();
      TestPostgres created = stack.postgres().createDatabase("spring_boot_starter_it");
      try (Connection c = created.connect();
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE shop_orders (id text PRIMARY KEY, item text NOT NULL)");
        // no unique constraint: a second effect of one event would show as a second row
        s.execute("CREATE TABLE shipments (order_id text NOT NULL)");
        s.execute(Outbox.builder().build().ddl());
      }
      stack.kafka().createTopic(TOPIC, 1);
      stack.kafka().createTopic(TOPIC + DeadLetterHeaders.DEFAULT_TOPIC_SUFFIX, 1);
      db = created;
    }
    return db;
  }

  @DynamicPropertySource
  static void servers(DynamicPropertyRegistry registry) throws SQLException {
    TestPostgres database = database();
    registry.add("spring.datasource.url", database::jdbcUrl);
    registry.add("spring.datasource.username", database::user);
    registry.add("spring.datasource.password", database::password);
    registry.add("spring.kafka.bootstrap-servers", () -> kafka().bootstrapServers());
    registry.add("shop.orders-topic", () -> TOPIC);
  }

  @BeforeAll
  static void startRelay() throws SQLException {
    TestPostgres database = database();
    String yaml =
        """
        source:
          jdbc-url: ${DB_URL}
          user: ${DB_USER}
          password: ${DB_PASSWORD}
          slot: unpoll_spring_boot_starter_it
          publication: unpoll_spring_boot_starter_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: ${KAFKA}
        outbox:
          table: public.unpoll_outbox
          topic-pattern: boot-${aggregatetype}-%s
        http:
          port: 0
        """
            .formatted(SUFFIX);
    Map<String, String> env =
        Map.of(
            "DB_URL", database.jdbcUrl(),
            "DB_USER", database.user(),
            "DB_PASSWORD", database.password(),
            "KAFKA", kafka().bootstrapServers());
    relay = Relay.builder().config(UnpollConfig.parse(yaml, env)).build();
    relay.start();
    await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
  }

  @AfterAll
  static void stopRelay() {
    if (relay != null) {
      relay.close();
    }
  }

  private static TestKafka kafka() {
    return UnpollStack.shared().kafka();
  }

  @Test
  void committedEventsAreHandledOnceTheRolledBackOneNeverAndARedeliveryHasNoSecondEffect()
      throws Exception {
    orders.placeOrder("A-1", "book");
    assertThatThrownBy(() -> orders.placeOrderThenFail("B-2", "lamp"))
        .hasMessageContaining("payment declined for order B-2");
    orders.placeOrder("C-3", "pen");
    orders.placeOrder("NOWHERE-4", "map"); // its shipment fails on every attempt

    // retried (3 attempts), then dead-lettered with unpoll's headers; nothing of it committed
    List<ConsumerRecord<byte[], byte[]>> deadLetters =
        kafka().readFromBeginning(TOPIC + DeadLetterHeaders.DEFAULT_TOPIC_SUFFIX, 1, LONG);
    assertThat(deadLetters)
        .singleElement()
        .extracting(r -> new String(r.key()))
        .isEqualTo("NOWHERE-4");
    ConsumerRecord<byte[], byte[]> deadLetter = deadLetters.get(0);
    assertThat(header(deadLetter, DeadLetterHeaders.EXCEPTION_CLASS))
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(header(deadLetter, DeadLetterHeaders.ATTEMPTS)).isEqualTo("3");
    assertThat(header(deadLetter, DeadLetterHeaders.CONSUMER_GROUP)).isEqualTo(GROUP);
    await().atMost(LONG).until(() -> count(ConsumerMetrics.DEAD_LETTERED) == 1.0);
    assertThat(count(ConsumerMetrics.RETRIES)).isEqualTo(2.0);

    // A-1 and C-3 shipped once each; the rolled-back B-2 never reached the topic
    await().atMost(LONG).until(() -> shipments().size() >= 2);
    assertThat(shipments()).containsExactly("A-1", "C-3");
    assertThat(jdbc.queryForList("SELECT id FROM shop_orders ORDER BY id", String.class))
        .containsExactly("A-1", "C-3", "NOWHERE-4");
    assertThat(
            jdbc.queryForObject(
                "SELECT count(*) FROM "
                    + IdempotencyStore.PROCESSED_TABLE
                    + " WHERE consumer_group = ?",
                Long.class,
                GROUP))
        .as("keys recorded: A-1 and C-3, not the dead-lettered one")
        .isEqualTo(2L);
    List<ConsumerRecord<byte[], byte[]>> published = kafka().readFromBeginning(TOPIC, 3, LONG);
    assertThat(published)
        .extracting(r -> new String(r.key()))
        .containsExactly("A-1", "C-3", "NOWHERE-4");

    // a redelivery of A-1 (same record, same ce_id): counted as a duplicate, no second shipment
    ConsumerRecord<byte[], byte[]> first = published.get(0);
    try (KafkaProducer<byte[], byte[]> producer = kafka().newProducer()) {
      producer
          .send(new ProducerRecord<>(TOPIC, null, first.key(), first.value(), first.headers()))
          .get();
    }
    await().atMost(LONG).until(() -> count(ConsumerMetrics.DUPLICATES) == 1.0);
    assertThat(shipments()).containsExactly("A-1", "C-3");
    assertThat(count(ConsumerMetrics.HANDLED)).isEqualTo(2.0);

    assertThat(outboxHealth.health().getStatus()).isEqualTo(Status.UP);
    assertThat(storeHealth.health().getStatus()).isEqualTo(Status.UP);
    assertThat(storeHealth.health().getDetails()).containsEntry("group", GROUP);
  }

  private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
    Header h = record.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private List<String> shipments() {
    return jdbc.queryForList("SELECT order_id FROM shipments ORDER BY order_id", String.class);
  }

  private double count(String meter) {
    Counter c =
        meters
            .find(meter)
            .tag(ConsumerMetrics.TAG_GROUP, GROUP)
            .tag(ConsumerMetrics.TAG_TOPIC, TOPIC)
            .counter();
    return c == null ? 0.0 : c.count();
  }
}

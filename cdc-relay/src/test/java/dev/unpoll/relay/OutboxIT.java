package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.header;
import static dev.unpoll.relay.RelayFixtures.key;
import static dev.unpoll.relay.RelayFixtures.sql;
import static dev.unpoll.relay.RelayFixtures.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class OutboxIT {

  static TestPostgres db;
  static TestKafka kafka;
  static Relay relay;
  static SimpleMeterRegistry registry = new SimpleMeterRegistry();
  static String legacyTopic;

  @BeforeAll
  static void start(TestPostgres server, TestKafka broker) {
    db = server.createDatabase("relay_outbox_it");
    kafka = broker;
    legacyTopic = kafka.createUniqueTopic("rollback", 1);
    sql(
        db,
        "create table unpoll_outbox (id uuid primary key, aggregatetype varchar(255) not null,"
            + " aggregateid varchar(255) not null, type varchar(255) not null, payload jsonb,"
            + " headers jsonb, created_at timestamptz not null default now())",
        "create table jobs (id int primary key, note text)");
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "outbox_it")
            + """
            outbox:
              topic-pattern: outbox_it.${aggregatetype}
            tables:
              - table: jobs
                topic: %s
            """
                .formatted(legacyTopic);
    relay = Relay.builder().config(RelayFixtures.config(db, yaml)).meterRegistry(registry).build();
    relay.start();
    await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
  }

  @AfterAll
  static void stop() {
    if (relay != null) {
      relay.close();
    }
  }

  @Test
  void outboxRowsAreRoutedByAggregateTypeWithTheirHeadersAndDeletesAreIgnored() {
    kafka.createTopic("outbox_it.order", 3);
    UUID first = UUID.randomUUID();
    UUID second = UUID.randomUUID();
    UUID binary = UUID.randomUUID();
    sql(
        db,
        "insert into unpoll_outbox (id, aggregatetype, aggregateid, type, payload, headers) values ('"
            + first
            + "', 'order', 'o-1', 'OrderCreated', '{\"orderId\": 1, \"total\": 10.50}', '{\"trace\": \"abc\"}')",
        // delete-after-insert: the row never stays, the WAL still carries the insert
        "begin; insert into unpoll_outbox (id, aggregatetype, aggregateid, type, payload, headers) values ('"
            + second
            + "', 'order', 'o-1', 'OrderPaid', '\"paid in full\"', '{\"content-type\": \"text/plain\"}');"
            + " delete from unpoll_outbox where id = '"
            + second
            + "'; commit",
        "insert into unpoll_outbox (id, aggregatetype, aggregateid, type, payload, headers) values ('"
            + binary
            + "', 'order', 'o-2', 'OrderScanned', '\"AQID\"', '{\"content-type\":"
            + " \"application/octet-stream\", \"unpoll_payload_encoding\": \"base64\"}')",
        "delete from unpoll_outbox");
    try (TopicReader reader = new TopicReader(kafka, "outbox_it.order")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 3);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(2));
      assertThat(records).hasSize(3);
      ConsumerRecord<byte[], byte[]> a = find(records, first);
      assertThat(key(a)).isEqualTo("o-1");
      assertThat(value(a)).isEqualTo("{\"total\":10.50,\"orderId\":1}");
      assertThat(header(a, "ce_type")).isEqualTo("OrderCreated");
      assertThat(header(a, "ce_source")).isEqualTo("/unpoll/relay_outbox_it/outbox");
      assertThat(header(a, "ce_subject")).isEqualTo("o-1");
      assertThat(header(a, "content-type")).isEqualTo("application/json");
      assertThat(header(a, "trace")).isEqualTo("abc");
      assertThat(header(a, "unpoll_lsn")).isNotBlank();
      ConsumerRecord<byte[], byte[]> b = find(records, second);
      assertThat(value(b)).isEqualTo("paid in full");
      assertThat(header(b, "content-type")).isEqualTo("text/plain");
      assertThat(b.partition()).isEqualTo(a.partition());
      assertThat(b.offset()).isGreaterThan(a.offset());
      ConsumerRecord<byte[], byte[]> c = find(records, binary);
      assertThat(c.value()).containsExactly(1, 2, 3);
      assertThat(header(c, "unpoll_payload_encoding")).isNull();
    }
  }

  @Test
  void walMessagesArePublishedLikeOutboxRowsAndForeignPrefixesAreIgnored() throws Exception {
    kafka.createTopic("outbox_it.invoice", 1);
    UUID id = UUID.randomUUID();
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute(
            "select pg_logical_emit_message(true, 'unpoll.outbox', '{\"v\":1,\"id\":\""
                + id
                + "\",\"aggregatetype\":\"invoice\",\"aggregateid\":\"inv-9\",\"type\":\"InvoiceIssued\","
                + "\"occurred_at\":\"2026-11-21T19:56:52.123Z\",\"headers\":{\"trace\":\"t-1\"},"
                + "\"content_type\":\"application/json\",\"payload\":{\"amount\":99.90},\"extra\":1}')");
        s.execute("select pg_logical_emit_message(true, 'someone.else', 'not ours')");
      }
      c.commit();
    }
    try (TopicReader reader = new TopicReader(kafka, "outbox_it.invoice")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 1);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(2));
      assertThat(records).hasSize(1);
      ConsumerRecord<byte[], byte[]> r = records.get(0);
      assertThat(key(r)).isEqualTo("inv-9");
      assertThat(value(r)).isEqualTo("{\"amount\":99.90}");
      assertThat(header(r, "ce_id")).isEqualTo(id.toString());
      assertThat(header(r, "ce_type")).isEqualTo("InvoiceIssued");
      assertThat(header(r, "trace")).isEqualTo("t-1");
      assertThat(header(r, "ce_time")).endsWith("Z");
    }
  }

  @Test
  void aRolledBackTransactionNeverAppears() throws Exception {
    try (Connection c = db.connect()) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.execute("insert into jobs values (1, 'rolled back')");
        s.execute(
            "select pg_logical_emit_message(true, 'unpoll.outbox', '{\"v\":1,\"id\":\""
                + UUID.randomUUID()
                + "\",\"aggregatetype\":\"ghost\",\"aggregateid\":\"g\",\"type\":\"Ghost\",\"payload\":{}}')");
      }
      c.rollback();
    }
    sql(db, "insert into jobs values (2, 'committed')");
    try (TopicReader reader = new TopicReader(kafka, legacyTopic)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 1);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(2));
      assertThat(records).extracting(RelayFixtures::key).containsExactly("2");
    }
    assertThat(kafka.admin().listTopics().names().get()).doesNotContain("outbox_it.ghost");
  }

  private static ConsumerRecord<byte[], byte[]> find(
      List<ConsumerRecord<byte[], byte[]>> records, UUID id) {
    return records.stream()
        .filter(r -> id.toString().equals(header(r, "ce_id")))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no record with ce_id " + id));
  }

  @Test
  void aWalMessageOfAnotherVersionIsReportedAndSkippedWithoutStoppingTheRelay() throws Exception {
    kafka.createTopic("outbox_it.future", 1);
    sql(
        db,
        "select pg_logical_emit_message(true, 'unpoll.outbox', '{\"v\":2,\"id\":\"x\"}')",
        "select pg_logical_emit_message(true, 'unpoll.outbox', '{\"v\":1,\"id\":\""
            + UUID.randomUUID()
            + "\",\"aggregatetype\":\"future\",\"aggregateid\":\"f-1\",\"type\":\"After\",\"payload\":{}}')");
    try (TopicReader reader = new TopicReader(kafka, "outbox_it.future")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 1);
      assertThat(key(reader.settle(Duration.ofSeconds(1)).get(0))).isEqualTo("f-1");
    }
    assertThat(registry.counter("unpoll.relay.errors", "kind", "invalid-message").count())
        .isEqualTo(1);
    assertThat(relay.isHealthy()).isTrue();
  }
}

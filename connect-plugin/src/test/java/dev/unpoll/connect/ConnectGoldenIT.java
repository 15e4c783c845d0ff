package dev.unpoll.connect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.Headers;
import dev.unpoll.contract.RelayNames;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.ConnectorConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The same rows and outbox events captured by the relay and by a real Kafka Connect worker running
 * Debezium's PostgreSQL connector with {@link UnpollEventRouter} give identical records: key,
 * value, headers (LSN, transaction id and time compared by shape: the backlog is read in each
 * slot's own snapshot), partition and order. The connector's configuration is exactly what {@code
 * unpoll connect-config} prints for the same {@code unpoll.yaml} ({@link ConnectorConfig}).
 */
@ExtendWith(UnpollStackExtension.class)
class ConnectGoldenIT {

  static final String CONNECT_ROLE = ConnectFixtures.CONNECT_ROLE;
  static final String CONNECTOR = "unpoll-golden";

  static TestPostgres db;
  static TestKafka kafka;
  static Relay relay;
  static ConnectWorker worker;

  @BeforeAll
  static void start(TestPostgres server, TestKafka broker) {
    db = server.createDatabase("connect_golden_it");
    ConnectFixtures.connectRole(db);
    kafka = broker;
    for (String side : List.of("relay", "connect")) {
      kafka.createTopic("golden.orders." + side, 3);
      kafka.createTopic("golden.regions." + side, 3);
      kafka.createTopic("golden.payloads." + side, 1);
      kafka.createTopic("golden." + side + ".order", 3);
      kafka.createTopic("golden." + side + ".invoice", 1);
    }
    sql(
        "create table orders_q (id bigserial primary key, order_id bigint not null, payload jsonb,"
            + " amount numeric(12,2), ratio numeric, flag boolean, raw bytea, happened_at timestamp,"
            + " happened_tz timestamptz, day date, status text not null default 'NEW',"
            + " processed_at timestamptz)",
        "alter table orders_q replica identity full",
        "create table region_q (order_no bigint, region text, note text, status text default 'NEW',"
            + " primary key (order_no, region))",
        "create table payloads (id int primary key, j jsonb)",
        "create table unpoll_outbox (id uuid primary key, aggregatetype varchar(255) not null,"
            + " aggregateid varchar(255) not null, type varchar(255) not null, payload jsonb,"
            + " headers jsonb, created_at timestamptz not null default now())",
        RelayNames.heartbeatTableDdl(),
        // the backlog: pending rows before either capture starts; DONE rows are not events
        "insert into orders_q (order_id, amount, status) values (1, 1.10, 'NEW'), (2, 2.20, 'NEW'),"
            + " (3, 3.30, 'DONE'), (4, 4.40, 'NEW'), (5, 5.50, 'DONE')",
        "create publication golden_connect for table orders_q, region_q, payloads, unpoll_outbox, "
            + RelayNames.HEARTBEAT_TABLE.quoted());
    relay =
        Relay.builder()
            .config(
                UnpollConfig.parse(
                    yaml("relay", db.user(), "${TEST_DB_PASSWORD}"),
                    Map.of("TEST_DB_PASSWORD", db.password())))
            .meterRegistry(new SimpleMeterRegistry())
            .build();
    relay.start();
    await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
    worker = ConnectWorker.start(kafka, "connect-golden-it");
  }

  @AfterAll
  static void stop() {
    if (worker != null) {
      worker.close();
    }
    if (relay != null) {
      relay.close();
    }
  }

  /** The unpoll.yaml of one side: the same mapping, topics and slot named after the side. */
  static String yaml(String side, String user, String password) {
    return """
        source:
          jdbc-url: %s
          user: %s
          password: %s
          slot: golden_%s
          publication: golden_%s
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        http:
          port: 0
        outbox:
          topic-pattern: golden.%s.${aggregatetype}
        tables:
          - table: public.orders_q
            topic: golden.orders.%s
            bookkeeping-columns: [status, processed_at]
            status: {column: status, pending: [NEW], done: [DONE]}
            backlog: true
            emit-updates: true
          - table: region_q
            topic: golden.regions.%s
            event-type: region.queued
            bookkeeping-columns: [status]
          - table: public.payloads
            topic: golden.payloads.%s
            value: payload
            payload-column: j
        """
        .formatted(
            db.jdbcUrl(),
            user,
            password,
            side,
            side,
            kafka.bootstrapServers(),
            side,
            side,
            side,
            side);
  }

  /** What {@code unpoll connect-config --config unpoll.yaml --name unpoll-golden} prints. */
  static String connectorJson() {
    String file = yaml("connect", CONNECT_ROLE, "${" + ConnectorConfig.PASSWORD_ENV + "}");
    UnpollConfig config =
        UnpollConfig.parse(file, Map.of(ConnectorConfig.PASSWORD_ENV, "not-what-is-printed"));
    return ConnectorConfig.json(
        ConnectorConfig.of(config, ConnectorConfig.mappingYaml(file, Optional.empty()), CONNECTOR));
  }

  @Test
  void theRelayAndConnectPublishIdenticalRecords() throws Exception {
    String json = connectorJson();
    assertThat(json).doesNotContain("not-what-is-printed").contains("${env:UNPOLL_DB_PASSWORD}");
    var put = worker.put("connectors/" + CONNECTOR + "/config", json);
    assertThat(put.statusCode()).as(put.body()).isIn(200, 201);
    await()
        .atMost(Duration.ofSeconds(60))
        .until(() -> worker.state(CONNECTOR), s -> s.equals("RUNNING:RUNNING"));
    // the backlog (3 pending rows) read by both, each in its own slot's snapshot: after it, both
    // stream, and every change below reaches both slots
    try (TopicReader r = new TopicReader(kafka, "golden.orders.relay");
        TopicReader c = new TopicReader(kafka, "golden.orders.connect")) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> r.poll().size() >= 3 && c.poll().size() >= 3);
    }

    for (int i = 1; i <= 10; i++) {
      sql(
          "insert into orders_q (order_id, payload, amount, ratio, flag, raw, happened_at,"
              + " happened_tz, day) values ("
              + (100 + i)
              + ", '{\"n\":"
              + i
              + ",\"items\":[1,2.50]}', 12345678.90, 0.1000000000000000000001, true, '\\x0102ff',"
              + " '2026-11-21 19:56:52.123456', '2026-11-21 19:56:52.5+01', '2026-11-21')");
    }
    sql(
        // bookkeeping only: nothing; a business change: an update; a cleanup delete: nothing
        "update orders_q set status = 'DONE', processed_at = now() where order_id = 101",
        "update orders_q set amount = 7.77 where order_id = 102",
        "delete from orders_q where order_id = 103",
        "insert into region_q (order_no, region, note) values (1, 'eu', 'a'), (1, 'us', 'b'),"
            + " (2, 'eu', 'c')",
        "update region_q set status = 'DONE'",
        "insert into payloads values (1, '{\"a\": 1.50}'), (2, null)",
        "insert into unpoll_outbox (id, aggregatetype, aggregateid, type, payload, headers) values ('"
            + UUID.randomUUID()
            + "', 'order', 'o-1', 'OrderCreated', '{\"orderId\": 1, \"total\": 10.50}',"
            + " '{\"trace\": \"abc\"}')",
        "begin; insert into unpoll_outbox (id, aggregatetype, aggregateid, type, payload, headers)"
            + " values ('"
            + UUID.randomUUID()
            + "', 'order', 'o-1', 'OrderPaid', '\"paid in full\"',"
            + " '{\"content-type\": \"text/plain\"}'); delete from unpoll_outbox; commit",
        "select pg_logical_emit_message(true, 'unpoll.outbox', '{\"v\":1,\"id\":\""
            + UUID.randomUUID()
            + "\",\"aggregatetype\":\"invoice\",\"aggregateid\":\"inv-9\",\"type\":\"InvoiceIssued\","
            + "\"headers\":{\"trace\":\"t-1\"},\"content_type\":\"application/json\","
            + "\"payload\":{\"amount\":99.90}}')",
        "select pg_logical_emit_message(true, 'someone.else', 'not ours')");

    // 3 backlog rows + 10 inserts + 1 business update
    assertIdentical("golden.orders", 14);
    assertIdentical("golden.regions", 3);
    assertIdentical("golden.payloads", 2);
    assertIdentical("golden.%s.order", 2);
    assertIdentical("golden.%s.invoice", 1);
    // Debezium's heartbeats go on to Debezium's heartbeat topic, as JSON
    try (TopicReader h = new TopicReader(kafka, "__debezium-heartbeat.golden_connect")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> !h.poll().isEmpty());
      ConsumerRecord<byte[], byte[]> beat = h.poll().get(0);
      assertThat(text(beat.key())).isEqualTo("{\"serverName\":\"golden_connect\"}");
      assertThat(text(beat.value())).matches("\\{\"ts_ms\":\\d+}");
    }
  }

  /**
   * The relay's and Connect's records of one topic pair are the same, partition by partition in
   * offset order. {@code topic} is {@code prefix} (side appended) or a pattern with {@code %s}.
   */
  private static void assertIdentical(String topic, int expected) {
    String relayTopic = topic.contains("%s") ? topic.formatted("relay") : topic + ".relay";
    String connectTopic = topic.contains("%s") ? topic.formatted("connect") : topic + ".connect";
    try (TopicReader r = new TopicReader(kafka, relayTopic);
        TopicReader c = new TopicReader(kafka, connectTopic)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> r.poll().size() >= expected && c.poll().size() >= expected);
      List<String> relayed = normalise(r.settle(Duration.ofSeconds(2)));
      List<String> connected = normalise(c.settle(Duration.ofSeconds(2)));
      assertThat(relayed).as(relayTopic).hasSize(expected);
      assertThat(connected).as(connectTopic + " vs " + relayTopic).isEqualTo(relayed);
    }
  }

  private static final Map<String, Pattern> PER_RUN =
      Map.of(
          Headers.LSN, Pattern.compile("[0-9A-F]{1,8}/[0-9A-F]{1,8}"),
          Headers.TXID, Pattern.compile("[0-9]+"),
          Headers.TIME, Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"));

  /**
   * One line per record, partition then offset order: partition, key, value, every header in order,
   * per-run values replaced by their shape after checking it.
   */
  private static List<String> normalise(List<ConsumerRecord<byte[], byte[]>> records) {
    List<ConsumerRecord<byte[], byte[]>> sorted = new ArrayList<>(records);
    sorted.sort(
        Comparator.comparingInt((ConsumerRecord<byte[], byte[]> x) -> x.partition())
            .thenComparingLong(ConsumerRecord::offset));
    List<String> lines = new ArrayList<>();
    for (ConsumerRecord<byte[], byte[]> rec : sorted) {
      StringBuilder sb =
          new StringBuilder()
              .append(rec.partition())
              .append(" | ")
              .append(text(rec.key()))
              .append(" | ")
              .append(text(rec.value()));
      for (Header h : rec.headers()) {
        String v = text(h.value());
        Pattern shape = PER_RUN.get(h.key());
        if (shape != null) {
          assertThat(v).as(h.key()).matches(shape);
          v = "<" + h.key() + ">";
        }
        sb.append(" | ").append(h.key()).append('=').append(v);
      }
      lines.add(sb.toString());
    }
    return lines;
  }

  private static String text(byte[] b) {
    return b == null ? "<null>" : new String(b, StandardCharsets.UTF_8);
  }

  static void sql(String... statements) {
    ConnectFixtures.sql(db, statements);
  }
}

package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.header;
import static dev.unpoll.relay.RelayFixtures.key;
import static dev.unpoll.relay.RelayFixtures.sql;
import static dev.unpoll.relay.RelayFixtures.value;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class LegacyTableIT {

  static TestPostgres db;
  static TestKafka kafka;
  static Relay relay;
  static SimpleMeterRegistry registry = new SimpleMeterRegistry();
  static String ordersTopic;
  static String compositeTopic;
  static String mixedTopic;
  static String payloadTopic;
  static String textTopic;
  static String xmlTopic;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start(TestPostgres server, TestKafka broker) {
    db = server.createDatabase("relay_legacy_it");
    kafka = broker;
    ordersTopic = kafka.createUniqueTopic("orders", 3);
    compositeTopic = kafka.createUniqueTopic("composite", 3);
    mixedTopic = kafka.createUniqueTopic("mixed", 1);
    payloadTopic = kafka.createUniqueTopic("payloads", 1);
    textTopic = kafka.createUniqueTopic("texts", 1);
    xmlTopic = kafka.createUniqueTopic("xmls", 1);
    sql(
        db,
        "create table order_integration (id bigserial primary key, order_id bigint not null,"
            + " event_type text not null, payload jsonb, amount numeric(12,2), ratio numeric,"
            + " flag boolean, raw bytea, happened_at timestamp, happened_tz timestamptz, day date,"
            + " status text not null default 'NEW', created_at timestamptz not null default now(),"
            + " processed_at timestamptz, retry_count int not null default 0)",
        "create table region_queue (order_no bigint, region text, note text, status text default 'NEW',"
            + " primary key (order_no, region))",
        "create schema \"Sales\"",
        "create table \"Sales\".\"OrderQueue\" (\"Id\" int primary key, \"Note\" text)",
        "create table payloads (id int primary key, kind text, j jsonb, t text, x xml, b bytea)",
        "create table text_payloads (id int primary key, t text)",
        "create table xml_payloads (id int primary key, x xml)");
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "legacy_it")
            + """
            tables:
              - table: public.order_integration
                topic: %s
                bookkeeping-columns: [status, processed_at, retry_count]
                status: {column: status, pending: [NEW], done: [DONE]}
              - table: region_queue
                topic: %s
                event-type: region.queued
                bookkeeping-columns: [status]
              - table: '"Sales"."OrderQueue"'
                topic: %s
              - table: public.payloads
                topic: %s
                value: payload
                payload-column: j
              - table: public.text_payloads
                topic: %s
                value: payload
                payload-column: t
              - table: public.xml_payloads
                topic: %s
                value: payload
                payload-column: x
            """
                .formatted(
                    ordersTopic, compositeTopic, mixedTopic, payloadTopic, textTopic, xmlTopic);
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
  void publishesExactlyTheInsertsOnceInOrderPerKeyWithHeaders() throws Exception {
    List<String> statements = new ArrayList<>();
    for (int i = 1; i <= 30; i++) {
      statements.add(
          "insert into order_integration (order_id, event_type, payload, amount, ratio, flag, raw,"
              + " happened_at, happened_tz, day) values ("
              + (1000 + i)
              + ", 'OrderCreated', '{\"n\":"
              + i
              + ",\"items\":[1,2.50]}', 12345678.90, 0.1000000000000000000001, true, '\\x0102ff',"
              + " '2026-11-21 19:56:52.123456', '2026-11-21 19:56:52.5+01', '2026-11-21')");
    }
    statements.add(
        "update order_integration set status = 'PROCESSING', retry_count = 1 where id <= 20");
    statements.add(
        "update order_integration set status = 'DONE', processed_at = now() where id <= 20");
    statements.add("delete from order_integration where id <= 10");
    sql(db, statements.toArray(String[]::new));

    try (TopicReader reader = new TopicReader(kafka, ordersTopic)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 30);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(3));
      assertThat(records).hasSize(30);
      assertThat(records.stream().map(RelayFixtures::key).distinct()).hasSize(30);
      ConsumerRecord<byte[], byte[]> first =
          records.stream().filter(r -> key(r).equals("1")).findFirst().orElseThrow();
      assertThat(header(first, "ce_specversion")).isEqualTo("1.0");
      assertThat(header(first, "ce_id")).isEqualTo("public.order_integration:1");
      assertThat(header(first, "ce_source"))
          .isEqualTo("/unpoll/relay_legacy_it/public.order_integration");
      assertThat(header(first, "ce_type")).isEqualTo("public.order_integration.inserted");
      assertThat(header(first, "ce_time"))
          .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z");
      assertThat(header(first, "content-type")).isEqualTo("application/json");
      assertThat(header(first, "unpoll_lsn")).matches("[0-9A-F]+/[0-9A-F]+");
      assertThat(header(first, "unpoll_txid")).matches("\\d+");
      JsonNode v = JSON.readTree(value(first));
      assertThat(v.has("status")).isFalse();
      assertThat(v.has("processed_at")).isFalse();
      assertThat(v.has("retry_count")).isFalse();
      assertThat(v.get("payload").isObject()).isTrue();
      assertThat(v.get("payload").get("n").asInt()).isEqualTo(1);
      assertThat(value(first))
          .contains("\"amount\":12345678.90")
          .contains("\"ratio\":0.1000000000000000000001")
          .contains("\"items\":[1,2.50]");
      assertThat(v.get("flag").asBoolean()).isTrue();
      assertThat(v.get("raw").asText()).isEqualTo("AQL/");
      assertThat(v.get("happened_at").asText()).isEqualTo("2026-11-21T19:56:52.123456");
      assertThat(v.get("happened_tz").asText()).startsWith("2026-11-21T18:56:52.5").endsWith("Z");
      assertThat(v.get("day").asText()).isEqualTo("2026-11-21");
      assertThat(v.get("order_id").asLong()).isEqualTo(1001);
      Map<Integer, List<Long>> lsnsByPartition = new HashMap<>();
      for (ConsumerRecord<byte[], byte[]> r : records) {
        lsnsByPartition
            .computeIfAbsent(r.partition(), p -> new ArrayList<>())
            .add(Long.parseLong(key(r)));
      }
      lsnsByPartition.values().forEach(ids -> assertThat(ids).isSorted());
    }
    assertThat(
            registry
                .counter(
                    "unpoll.relay.skipped", "table", "public.order_integration", "reason", "delete")
                .count())
        .isEqualTo(10);
    assertThat(
            registry
                .counter(
                    "unpoll.relay.skipped", "table", "public.order_integration", "reason", "update")
                .count())
        .isEqualTo(40);
    assertThat(registry.find("unpoll.relay.events").tag("topic", ordersTopic).counter().count())
        .isEqualTo(30);
    assertThat(registry.find("unpoll.relay.latency").timer().count()).isGreaterThanOrEqualTo(30);
    assertThat(relay.lastAcknowledgedLsn()).isPresent();
    assertThat(relay.isHealthy()).isTrue();
  }

  @Test
  void compositeKeyIsAJsonArrayInKeyOrder() {
    sql(
        db,
        "insert into region_queue (order_no, region, note) values (42, 'EU', 'a'), (42, 'US', 'b')");
    try (TopicReader reader = new TopicReader(kafka, compositeTopic)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 2);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(1));
      assertThat(records)
          .extracting(RelayFixtures::key)
          .containsExactlyInAnyOrder("[42,\"EU\"]", "[42,\"US\"]");
      assertThat(records)
          .extracting(r -> header(r, "ce_id"))
          .contains("public.region_queue:[42,\"EU\"]");
      assertThat(records).extracting(r -> header(r, "ce_type")).containsOnly("region.queued");
      assertThat(value(records.get(0))).doesNotContain("status");
    }
  }

  @Test
  void mixedCaseQuotedTableInANonPublicSchema() {
    sql(db, "insert into \"Sales\".\"OrderQueue\" (\"Id\", \"Note\") values (7, 'hello')");
    try (TopicReader reader = new TopicReader(kafka, mixedTopic)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 1);
      ConsumerRecord<byte[], byte[]> r = reader.settle(Duration.ofSeconds(1)).get(0);
      assertThat(key(r)).isEqualTo("7");
      assertThat(header(r, "ce_id")).isEqualTo("Sales.OrderQueue:7");
      assertThat(value(r)).isEqualTo("{\"Id\":7,\"Note\":\"hello\"}");
    }
  }

  @Test
  void jsonbPayloadIsPublishedAsJsonAndAOneMegabyteToastedValueArrivesIntact() throws Exception {
    StringBuilder big = new StringBuilder("{\"blob\":\"");
    java.util.Random random = new java.util.Random(1);
    while (big.length() < 1_000_000) {
      big.append(Long.toString(random.nextLong(), 36));
    }
    big.append("\"}");
    sql(
        db,
        "insert into payloads (id, kind, j) values (1, 'json', '{\"a\": [1, {\"b\": null}]}')",
        "insert into payloads (id, kind, j) values (2, 'big', '" + big + "')");
    try (TopicReader reader = new TopicReader(kafka, payloadTopic)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 2);
      List<ConsumerRecord<byte[], byte[]>> records = reader.settle(Duration.ofSeconds(1));
      assertThat(value(records.get(0))).isEqualTo("{\"a\": [1, {\"b\": null}]}");
      assertThat(header(records.get(0), "content-type")).isEqualTo("application/json");
      assertThat(records.get(1).value().length).isGreaterThan(1_000_000);
      assertThat(JSON.readTree(value(records.get(1)))).isEqualTo(JSON.readTree(big.toString()));
    }
  }

  @Test
  void textAndXmlPayloadsArePublishedAsTheirText() {
    sql(
        db,
        "insert into text_payloads values (1, 'plain text, not JSON')",
        "insert into xml_payloads values (1, '<order id=\"1\"><item>book</item></order>')");
    try (TopicReader texts = new TopicReader(kafka, textTopic);
        TopicReader xmls = new TopicReader(kafka, xmlTopic)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> texts.poll().size() >= 1 && xmls.poll().size() >= 1);
      ConsumerRecord<byte[], byte[]> t = texts.poll().get(0);
      ConsumerRecord<byte[], byte[]> x = xmls.poll().get(0);
      assertThat(value(t)).isEqualTo("plain text, not JSON");
      assertThat(header(t, "content-type")).startsWith("text/plain");
      assertThat(value(x)).isEqualTo("<order id=\"1\"><item>book</item></order>");
      assertThat(header(x, "content-type")).isEqualTo("application/xml");
    }
  }
}

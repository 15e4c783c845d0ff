package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TimeZone;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** verify: rows vs. events, poller vs. consumer, latency; exit 3 on missing or double-handled. */
@ExtendWith(UnpollStackExtension.class)
class VerifyIT {
  static TestPostgres db;
  static TestKafka kafka;

  @BeforeAll
  static void database(TestPostgres server, TestKafka k) {
    db = server.createDatabase("cli_verify_it");
    kafka = k;
    // No primary key on purpose: a consumer table without one lets a key be recorded twice.
    Fixtures.sql(
        db,
        "CREATE TABLE unpoll_processed (consumer_group text NOT NULL, idempotency_key text NOT NULL,"
            + " processed_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE unpoll_shadow_ledger (consumer_group text NOT NULL,"
            + " idempotency_key text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(),"
            + " event_time timestamptz)");
  }

  /**
   * Issue 11: verify computes the key the relay writes, through the same codec, for a table keyed
   * by a timestamptz and one keyed by text and numeric parts, read in a JVM time zone that is not
   * UTC. Before, verify wrote java.sql.Timestamp's text in the JVM's zone and reported every row of
   * such a table missing.
   */
  @Test
  void keysOfTimestampAndCompositeTablesMatchWhatTheRelayPublished() throws Exception {
    String topic = kafka.createUniqueTopic("v-keys", 1);
    Fixtures.sql(
        db,
        "CREATE TABLE v_tstz (k timestamptz PRIMARY KEY, note text, status text NOT NULL DEFAULT"
            + " 'NEW', created_at timestamptz NOT NULL DEFAULT now())",
        "CREATE TABLE v_text_num (region text, amount numeric(8,2), note text, status text NOT NULL"
            + " DEFAULT 'NEW', created_at timestamptz NOT NULL DEFAULT now(),"
            + " PRIMARY KEY (region, amount))");
    String yaml =
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${PW}
          slot: verify_keys_it
          publication: verify_keys_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        tables:
          - table: v_tstz
            topic: %s
          - table: v_text_num
            topic: %s
        """
            .formatted(db.jdbcUrl(), db.user(), kafka.bootstrapServers(), topic, topic);
    try (Relay relay =
        Relay.builder().config(UnpollConfig.parse(yaml, Map.of("PW", db.password()))).build()) {
      relay.start();
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      Fixtures.sql(
          db,
          "INSERT INTO v_tstz (k, note) SELECT timestamptz '2026-11-21 14:56:52.123456-05'"
              + " + g * interval '1.5 second', 'n' FROM generate_series(1, 5) g",
          "INSERT INTO v_text_num (region, amount, note) VALUES ('EU', 12.5, 'a'),"
              + " ('EU', 12.55, 'b'), ('x,\"y\"', 0, 'c')");
      try (dev.unpoll.testkit.TopicReader reader =
          new dev.unpoll.testkit.TopicReader(kafka, topic)) {
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 8);
      }
    }
    TimeZone zone = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone("America/New_York"));
    try {
      for (String table : List.of("v_tstz", "v_text_num")) {
        Cli.Result r =
            Cli.run(
                db,
                kafka,
                "verify",
                "--table",
                table,
                "--topic",
                topic,
                "--settle",
                "0s",
                "--json");
        assertThat(r.json().at("/events/missing").asInt()).as(table + ": " + r).isZero();
        assertThat(r.json().at("/events/inTopic").asLong())
            .as(table)
            .isEqualTo(r.json().get("rows").asLong());
      }
    } finally {
      TimeZone.setDefault(zone);
    }
  }

  @Test
  void countsMissingAndDuplicatedEventsAndExits3WhenOneIsMissing() {
    String table = "v_events";
    String topic = kafka.createUniqueTopic("v-events", 2);
    Fixtures.integrationTable(db, table);
    List<Long> rows = Fixtures.insert(db, table, 4);
    Fixtures.publish(kafka, topic, "public." + table, rows.subList(0, 3));
    Fixtures.publish(kafka, topic, "public." + table, rows.subList(0, 1));
    Fixtures.publish(kafka, topic, "public.other_table", rows); // another table on the same topic

    Cli.Result r =
        Cli.run(
            db, kafka, "verify", "--table", table, "--topic", topic, "--settle", "0s", "--json");

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode j = r.json();
    assertThat(j.get("rows").asLong()).isEqualTo(4);
    assertThat(j.at("/events/inTopic").asLong()).isEqualTo(4);
    assertThat(j.at("/events/missing").asInt()).isEqualTo(1);
    assertThat(j.at("/events/missingKeys/0").asText())
        .isEqualTo("public." + table + ":" + rows.get(3));
    assertThat(j.at("/events/duplicated").asInt()).isEqualTo(1);
    assertThat(j.get("ok").asBoolean()).isFalse();
    assertThat(j.get("failures").get(0).asText()).contains("1 row(s) have no event");
  }

  @Test
  void passesWhenEveryRowHasItsEventAndReportsPollerLatency() {
    String table = "v_complete";
    String topic = kafka.createUniqueTopic("v-complete", 1);
    Fixtures.integrationTable(db, table);
    List<Long> rows = Fixtures.insert(db, table, 3);
    Fixtures.publish(kafka, topic, "public." + table, rows);
    Fixtures.pollerHandles(db, table, rows);

    Cli.Result r =
        Cli.run(db, kafka, "verify", "--table", table, "--topic", topic, "--settle", "0s");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("rows in window: 3", "events: missing 0, duplicated 0", "by poller 3", "OK")
        .containsPattern("latency poller path \\(processed - created\\): p50 \\d+ ms");
  }

  /**
   * Issue 16: the mapping names the created-at and processed-at columns, so verify measures the
   * poller's latency on a table whose names say nothing (ins_ts, done_ts). Without the keys it has
   * no poller latency and no time window.
   */
  @Test
  void theMappingsCreatedAtAndProcessedAtColumnsGiveThePollersLatencyForAnyTable(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    String topic = kafka.createUniqueTopic("v-custom-times", 1);
    Fixtures.sql(
        db,
        "CREATE TABLE v_custom_times (id bigint PRIMARY KEY, st text NOT NULL DEFAULT 'NEW',"
            + " ins_ts timestamptz NOT NULL DEFAULT clock_timestamp(), done_ts timestamptz)",
        "INSERT INTO v_custom_times (id) SELECT g FROM generate_series(1, 3) g",
        "UPDATE v_custom_times SET st = 'DONE', done_ts = ins_ts + interval '1500 ms'");
    Fixtures.publish(kafka, topic, "public.v_custom_times", List.of(1L, 2L, 3L));
    String mapping =
        """
        tables:
          - table: v_custom_times
            topic: %s
            status: {column: st, pending: [NEW], done: [DONE]}
        """
            .formatted(topic);
    java.nio.file.Path without = dir.resolve("without.yaml");
    java.nio.file.Files.writeString(without, mapping);
    java.nio.file.Path with = dir.resolve("with.yaml");
    java.nio.file.Files.writeString(
        with, mapping + "    created-at-column: ins_ts\n    processed-at-column: done_ts\n");

    Cli.Result before =
        Cli.run(
            db,
            kafka,
            "verify",
            "--config",
            without.toString(),
            "--table",
            "v_custom_times",
            "--settle",
            "0s",
            "--json");
    assertThat(before.exit()).as(before.toString()).isZero();
    assertThat(before.json().at("/latency/poller/count").asLong()).isZero();
    assertThat(before.json().at("/window/allRows").asBoolean()).isTrue();

    Cli.Result after =
        Cli.run(
            db,
            kafka,
            "verify",
            "--config",
            with.toString(),
            "--table",
            "v_custom_times",
            "--settle",
            "0s",
            "--json");
    assertThat(after.exit()).as(after.toString()).isZero();
    assertThat(after.json().at("/latency/poller/count").asLong()).isEqualTo(3);
    assertThat(after.json().at("/latency/poller/p50Ms").asLong()).isEqualTo(1500);
    assertThat(after.json().at("/window/allRows").asBoolean()).isFalse();
  }

  @Test
  void rowsOutsideTheWindowAreNotCompared() {
    String table = "v_window";
    String topic = kafka.createUniqueTopic("v-window", 1);
    Fixtures.integrationTable(db, table);
    List<Long> rows = Fixtures.insert(db, table, 2);
    Fixtures.sql(
        db,
        "UPDATE "
            + table
            + " SET created_at = now() - interval '2 hours' WHERE id = "
            + rows.get(0));
    Fixtures.publishAt(
        kafka,
        topic,
        "public." + table,
        rows.subList(0, 1),
        java.time.Instant.now().minus(java.time.Duration.ofHours(2)));
    Fixtures.publish(kafka, topic, "public." + table, rows.subList(1, 2));

    Cli.Result r =
        Cli.run(
            db,
            kafka,
            "verify",
            "--table",
            table,
            "--topic",
            topic,
            "--since",
            "1h",
            "--settle",
            "0s",
            "--json");

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.json().get("rows").asLong()).isEqualTo(1);
    // reading starts at the window (minus the clock-skew margin): the old event is not read
    assertThat(r.json().at("/events/inTopic").asLong()).isEqualTo(1);
  }

  @Test
  void doubleHandledRowsExit3AndEventLatencyIsMeasured() {
    String table = "v_double";
    String raw = "public." + table;
    String topic = kafka.createUniqueTopic("v-double", 1);
    Fixtures.integrationTable(db, table);
    List<Long> rows = Fixtures.insert(db, table, 2);
    Fixtures.publish(kafka, topic, raw, rows);
    Fixtures.sql(
        db,
        "INSERT INTO unpoll_processed VALUES ('g1', '"
            + raw
            + ":"
            + rows.get(0)
            + "', now()),"
            + " ('g1', '"
            + raw
            + ":"
            + rows.get(0)
            + "', now()),"
            + " ('g1', '"
            + raw
            + ":"
            + rows.get(1)
            + "', now() + interval '1 second'),"
            + " ('other-group', '"
            + raw
            + ":"
            + rows.get(1)
            + "', now())",
        "UPDATE " + table + " SET status = 'DONE', processed_at = now()");

    Cli.Result r =
        Cli.run(
            db,
            kafka,
            "verify",
            "--table",
            table,
            "--topic",
            topic,
            "--group",
            "g1",
            "--settle",
            "0s",
            "--json");

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode h = r.json().get("handling");
    assertThat(h.get("doubleHandled").asInt()).isEqualTo(1);
    assertThat(h.at("/doubleHandledKeys/0").asText()).isEqualTo(raw + ":" + rows.get(0));
    assertThat(h.get("consumerHandled").asInt()).isEqualTo(2);
    assertThat(h.get("pollerHandled").asInt()).isZero();
    assertThat(r.json().at("/latency/event/count").asInt()).isEqualTo(2);
    assertThat(r.json().at("/latency/event/p99Ms").isNumber()).isTrue();
  }

  @Test
  void withoutAMappingOrTopicSaysHowToGetOne() {
    Fixtures.integrationTable(db, "v_unmapped");
    Cli.Result r = Cli.run(db, kafka, "verify", "--table", "v_unmapped");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("no mapping for public.v_unmapped", "unpoll plan");
  }

  @Test
  void aTopicThatDoesNotExistYetMeansEveryRowIsMissing() {
    Fixtures.integrationTable(db, "v_notopic");
    Fixtures.insert(db, "v_notopic", 2);
    Cli.Result r =
        Cli.run(
            db,
            kafka,
            "verify",
            "--table",
            "v_notopic",
            "--topic",
            "no-such-topic-here",
            "--settle",
            "0s",
            "--json");
    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    assertThat(r.json().at("/events/topicFound").asBoolean()).isFalse();
    assertThat(r.json().at("/events/missing").asInt()).isEqualTo(2);
    assertThat(r.json().at("/failures/0").asText())
        .contains("topic no-such-topic-here does not exist (yet)");
  }

  @Test
  void jsonFieldNamesAreTheDocumentedOnes() {
    String table = "v_fields";
    String topic = kafka.createUniqueTopic("v-fields", 1);
    Fixtures.integrationTable(db, table);
    Fixtures.publish(kafka, topic, "public." + table, Fixtures.insert(db, table, 1));

    JsonNode j =
        Cli.run(db, kafka, "verify", "--table", table, "--topic", topic, "--settle", "0s", "--json")
            .json();

    assertThat(names(j))
        .containsExactly(
            "table",
            "topic",
            "consumerGroup",
            "phase",
            "window",
            "rows",
            "events",
            "handling",
            "latency",
            "failures",
            "ok");
    assertThat(names(j.get("window"))).containsExactly("from", "to", "allRows");
    assertThat(names(j.get("events")))
        .containsExactly(
            "topicFound", "inTopic", "missing", "duplicated", "missingKeys", "duplicatedKeys");
    assertThat(names(j.get("handling")))
        .containsExactly(
            "done",
            "pollerHandled",
            "consumerHandled",
            "ledgerRecorded",
            "missingInLedger",
            "unhandled",
            "doubleHandled",
            "backlog",
            "processedTableFound",
            "ledgerTableFound",
            "missingInLedgerKeys",
            "unhandledKeys",
            "backlogKeys",
            "doubleHandledKeys");
    assertThat(names(j.at("/latency/poller"))).containsExactly("count", "p50Ms", "p95Ms", "p99Ms");
    assertThat(names(j.at("/latency/event"))).containsExactly("count", "p50Ms", "p95Ms", "p99Ms");
  }

  private static List<String> names(JsonNode n) {
    List<String> list = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(list::add);
    return list;
  }
}

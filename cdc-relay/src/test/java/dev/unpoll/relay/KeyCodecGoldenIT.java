package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.KeyCodec;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TimeZone;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Issue 11: the key the relay writes and the key {@code unpoll verify} computes for the same row
 * are one codec's ({@link KeyCodec}), and both equal the golden strings of
 * docs/reference/event-format.md, for every key type a legacy table uses. A change to either side's
 * reading, or to the codec, fails here.
 */
@ExtendWith(UnpollStackExtension.class)
class KeyCodecGoldenIT {

  /** Table, its key columns' DDL, the row's key literals, and the golden canonical key. */
  record Vector(String table, String keyDdl, String values, String golden) {
    /** The key columns, in order ("a text, b numeric(6,2)" gives "a, b"). */
    String columns() {
      return String.join(
          ", ", Arrays.stream(keyDdl.split(", ")).map(c -> c.split(" ")[0]).toList());
    }
  }

  static final List<Vector> VECTORS =
      List.of(
          new Vector("k_int2", "k smallint", "7", "7"),
          new Vector("k_int4", "k integer", "-42", "-42"),
          new Vector("k_int8", "k bigint", "9007199254740993", "9007199254740993"),
          new Vector("k_numeric", "k numeric(12,3)", "12.5", "12.5"),
          new Vector("k_numeric_free", "k numeric", "0.10", "0.1"),
          new Vector("k_numeric_int", "k numeric(6,0)", "100", "100"),
          new Vector("k_text", "k text", "'it''s \"q\", a,b ü'", "it's \"q\", a,b ü"),
          new Vector("k_varchar", "k varchar(20)", "'A-17'", "A-17"),
          new Vector("k_char", "k char(5)", "'ab'", "ab   "),
          new Vector(
              "k_uuid",
              "k uuid",
              "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'",
              "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
          new Vector("k_date", "k date", "'2026-11-21'", "2026-11-21"),
          new Vector(
              "k_ts6",
              "k timestamp(6)",
              "'2026-11-21 19:56:52.123456'",
              "2026-11-21T19:56:52.123456"),
          new Vector(
              "k_ts6_short", "k timestamp", "'2026-11-21 19:56:52.1'", "2026-11-21T19:56:52.1"),
          new Vector(
              "k_ts3", "k timestamp(3)", "'2026-11-21 19:56:52.120'", "2026-11-21T19:56:52.12"),
          new Vector("k_ts0", "k timestamp(0)", "'2026-11-21 19:56:00'", "2026-11-21T19:56:00"),
          new Vector(
              "k_tstz",
              "k timestamptz",
              "'2026-11-21 14:56:52.123456-05'",
              "2026-11-21T19:56:52.123456Z"),
          new Vector(
              "k_tstz0", "k timestamptz(0)", "'2026-11-21 19:56:52+00'", "2026-11-21T19:56:52Z"),
          new Vector("k_time", "k time", "'07:05:00'", "07:05:00"),
          new Vector("k_bool", "k boolean", "true", "true"),
          new Vector("k_real", "k real", "1.1", "1.1"),
          new Vector("k_float8", "k double precision", "2.5", "2.5"),
          new Vector("k_enum", "k mood", "'happy'", "happy"),
          new Vector("k_text_numeric", "a text, b numeric(6,2)", "'x,y', 12.5", "[\"x,y\",12.5]"),
          new Vector(
              "k_tstz_text",
              "a timestamptz, b text",
              "'2026-11-21 19:56:52.123456+00', 'plain'",
              "[\"2026-11-21T19:56:52.123456Z\",\"plain\"]"),
          new Vector(
              "k_mixed",
              "a int, b boolean, c date, d uuid, e text",
              "3, false, '2026-01-02', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'Zürich \"HQ\"'",
              "[3,false,\"2026-01-02\",\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"Zürich \\\"HQ\\\"\"]"));

  @Test
  void theRelayAndVerifyWriteTheGoldenKeyForEveryKeyType(TestPostgres server, TestKafka kafka)
      throws Exception {
    TestPostgres db = server.createDatabase("relay_key_golden_it");
    sql(db, "create type mood as enum ('sad', 'happy')");
    String topic = kafka.createUniqueTopic("keys", 1);
    StringBuilder tables = new StringBuilder("tables:\n");
    Map<String, String> golden = new LinkedHashMap<>();
    for (Vector v : VECTORS) {
      String cols = v.columns();
      sql(
          db,
          "create table "
              + v.table()
              + " ("
              + v.keyDdl()
              + ", note text, primary key ("
              + cols
              + "))");
      tables
          .append("  - table: ")
          .append(v.table())
          .append("\n    topic: ")
          .append(topic)
          .append('\n');
      golden.put(v.table(), "public." + v.table() + ":" + v.golden());
    }
    Relay relay =
        Relay.builder()
            .config(
                RelayFixtures.config(db, RelayFixtures.baseYaml(db, kafka, "key_golden") + tables))
            .build();
    Set<String> relayIds = new TreeSet<>();
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      try {
        relay.start();
        await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
        for (Vector v : VECTORS) {
          String cols = v.columns();
          sql(db, "insert into " + v.table() + " (" + cols + ") values (" + v.values() + ")");
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= VECTORS.size());
      } finally {
        relay.close();
      }
      reader
          .settle(Duration.ofMillis(300))
          .forEach(r -> relayIds.add(RelayFixtures.header(r, "ce_id")));
    }

    // what unpoll verify computes, read in a time zone that is not UTC
    Set<String> jdbcIds = new TreeSet<>();
    TimeZone zone = TimeZone.getDefault();
    TimeZone.setDefault(TimeZone.getTimeZone("America/New_York"));
    try (Connection c = db.connect()) {
      for (Vector v : VECTORS) {
        String cols = v.columns();
        int n = cols.split(", ").length;
        try (ResultSet rs =
            c.createStatement().executeQuery("select " + cols + " from " + v.table())) {
          KeyCodec.JdbcKeys keys = KeyCodec.jdbcKeys(rs.getMetaData(), n);
          while (rs.next()) {
            jdbcIds.add("public." + v.table() + ":" + keys.key(rs));
          }
        }
      }
    } finally {
      TimeZone.setDefault(zone);
    }

    assertThat(relayIds).as("the relay's ce_id").isEqualTo(new TreeSet<>(golden.values()));
    assertThat(jdbcIds).as("verify's ce_id").isEqualTo(new TreeSet<>(golden.values()));
  }
}

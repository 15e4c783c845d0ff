package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.consumer.IdempotentConsumer;
import dev.unpoll.consumer.KafkaConsumerRunner;
import dev.unpoll.contract.Headers;
import dev.unpoll.relay.RelayMain;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 10: TOAST. A captured table with update events on, whose jsonb documents are
 * large and do not compress, so PostgreSQL stores them out of line; the writers update only its
 * small columns. pgoutput leaves an unchanged out-of-line value out of the new row image, and
 * Debezium then puts its placeholder ({@code __debezium_unavailable_value}) where the value was,
 * unless the old row image carries it, which it does with {@code REPLICA IDENTITY FULL}. No
 * consumer may ever see the placeholder instead of the document.
 *
 * <p>Each row carries the MD5 of its document's text ({@code doc_md5}), so the content of every
 * event is checked against what was committed, and a consumer (the idempotent consumer, with a
 * handler that records one effect row per application) must apply every committed update once.
 */
@ExtendWith(UnpollStackExtension.class)
class ToastIT {
  static final String PLACEHOLDER = "__debezium_unavailable_value";

  static final String DDL =
      "CREATE TABLE fi.docs (id bigint PRIMARY KEY, state text NOT NULL, doc jsonb NOT NULL,"
          + " doc_md5 text NOT NULL);"
          + " CREATE TABLE fi.doc_effects (n bigserial PRIMARY KEY, event_id text NOT NULL,"
          + " ce_type text NOT NULL, id bigint, state text, md5_ok boolean NOT NULL)";

  /**
   * A document of 8,000 characters of random hex (250 MD5s): no compression brings it under the 2
   * kB TOAST threshold, so it is stored out of line.
   */
  static final String INSERT_DOC =
      "INSERT INTO fi.docs (id, state, doc, doc_md5)"
          + " SELECT ?, 'new', jsonb_build_object('blob', b), md5(b)"
          + " FROM (SELECT string_agg(md5(random()::text), '') b FROM generate_series(1, 250)) s";

  static final int ROWS = 100;
  static final int UPDATES = 1_500;

  private static final ObjectMapper JSON = new ObjectMapper();

  private static String docsMapping(String topic) {
    return "  - table: fi.docs\n    topic: " + topic + "\n    emit-updates: true\n";
  }

  /** (a) With the table's default replica identity the relay refuses to start, and says why. */
  @Test
  void replicaIdentityDefaultIsRefusedAtStart(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    String topic = kafka.createUniqueTopic("fi-toast-default-docs", 1);
    try (Harness h =
        new Harness(server, kafka, dir, "toast_default", Map.of(), "1s", docsMapping(topic))) {
      sql(h.db, DDL);
      h.startRelay("256m");
      await().atMost(Duration.ofSeconds(90)).until(() -> !h.relay().isAlive());
      assertThat(h.relay().exitCode()).isEqualTo(RelayMain.EXIT_CONFIG);
      assertThat(h.relayLog())
          .contains("tables[1].emit-updates: true needs the old row")
          .contains("ALTER TABLE \"fi\".\"docs\" REPLICA IDENTITY FULL");
      try (TopicReader reader = new TopicReader(kafka, topic)) {
        assertThat(reader.poll()).as("nothing published").isEmpty();
      }
    }
  }

  /**
   * (b) With {@code REPLICA IDENTITY FULL}, under the harness's load: every update of the small
   * column carries the whole document, equal to what was committed, and is applied once.
   */
  @Test
  void withReplicaIdentityFullEveryUpdateCarriesTheDocumentAndIsAppliedOnce(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    String topic = kafka.createUniqueTopic("fi-toast-docs", 3);
    try (Harness h =
        new Harness(server, kafka, dir, "toast_full", Map.of(), "1s", docsMapping(topic))) {
      sql(h.db, DDL, "ALTER TABLE fi.docs REPLICA IDENTITY FULL");
      h.startRelay();
      h.startConsumer();
      h.load.start();
      try (KafkaConsumerRunner runner = docsConsumer(h, kafka, topic)) {
        Map<Long, String> md5s = new HashMap<>();
        try (Connection c = h.db.connect()) {
          for (long id = 1; id <= ROWS; id++) {
            try (PreparedStatement ps = c.prepareStatement(INSERT_DOC)) {
              ps.setLong(1, id);
              ps.executeUpdate();
            }
          }
          try (Statement s = c.createStatement();
              ResultSet rs = s.executeQuery("SELECT id, doc_md5 FROM fi.docs")) {
            while (rs.next()) {
              md5s.put(rs.getLong(1), rs.getString(2));
            }
          }
          assertThat(toastChunks(c)).as("the documents are stored out of line").isPositive();
        }

        // updates of the small column only, 5 % rolled back; each has its own state text
        Map<String, Long> committed = new TreeMap<>();
        Set<String> rolledBack = new TreeSet<>();
        Random random = new Random(h.seed);
        try (Connection c = h.db.connect();
            PreparedStatement ps =
                c.prepareStatement("UPDATE fi.docs SET state = ? WHERE id = ?")) {
          c.setAutoCommit(false);
          for (int n = 1; n <= UPDATES; n++) {
            String state = "u" + n;
            long id = 1 + random.nextInt(ROWS);
            ps.setString(1, state);
            ps.setLong(2, id);
            ps.executeUpdate();
            if (random.nextInt(20) == 0) {
              c.rollback();
              rolledBack.add(state);
            } else {
              c.commit();
              committed.put(state, id);
            }
          }
        }

        // every insert and committed update in the topic
        Map<String, List<JsonNode>> byState = new HashMap<>();
        List<String> placeholders = new ArrayList<>();
        List<String> wrongContent = new ArrayList<>();
        int[] seen = {0};
        try (TopicReader reader = new TopicReader(kafka, topic)) {
          await()
              .atMost(Duration.ofMinutes(2))
              .until(
                  () -> {
                    List<ConsumerRecord<byte[], byte[]>> all = reader.poll();
                    List<ConsumerRecord<byte[], byte[]>> fresh = all.subList(seen[0], all.size());
                    seen[0] = all.size();
                    for (ConsumerRecord<byte[], byte[]> r : fresh) {
                      String value = new String(r.value(), StandardCharsets.UTF_8);
                      String ceId = header(r, Headers.ID);
                      if (value.contains(PLACEHOLDER)) {
                        placeholders.add(ceId + " " + header(r, Headers.TYPE));
                        continue;
                      }
                      JsonNode v = JSON.readTree(value);
                      long id = v.path("id").asLong();
                      if (!md5(v.path("doc").path("blob").asText()).equals(md5s.get(id))
                          || !v.path("doc_md5").asText().equals(md5s.get(id))) {
                        wrongContent.add(ceId + " " + v.path("state").asText());
                      }
                      String state = v.path("state").asText();
                      String k = state.equals("new") ? "new" + id : state;
                      byState.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
                    }
                    return !placeholders.isEmpty()
                        || byState.keySet().containsAll(committed.keySet())
                            && byState.keySet().stream().filter(s -> s.startsWith("new")).count()
                                == ROWS;
                  });
        }
        assertThat(placeholders).as("events carrying the placeholder").isEmpty();
        assertThat(wrongContent).as("events whose document differs from the committed").isEmpty();
        assertThat(byState.keySet()).doesNotContainAnyElementsOf(rolledBack);

        // every insert and committed update applied once, with the whole document
        long expected = ROWS + committed.size();
        try {
          await()
              .atMost(Duration.ofMinutes(2))
              .until(() -> count(h.db, "SELECT count(*) FROM fi.doc_effects") >= expected);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
          // checked below, with the names of what is missing
        }
        Map<String, Long> applied = new HashMap<>();
        try (Connection c = h.db.connect();
            Statement s = c.createStatement();
            ResultSet rs =
                s.executeQuery(
                    "SELECT CASE WHEN state = 'new' THEN 'new' || id ELSE state END, count(*),"
                        + " bool_and(md5_ok) FROM fi.doc_effects GROUP BY 1")) {
          while (rs.next()) {
            applied.put(rs.getString(1), rs.getLong(2));
            assertThat(rs.getBoolean(3)).as("document applied for %s", rs.getString(1)).isTrue();
          }
        }
        List<String> notOnce = new ArrayList<>();
        for (String state : committed.keySet()) {
          if (applied.getOrDefault(state, 0L) != 1) {
            notOnce.add(state + " x" + applied.getOrDefault(state, 0L));
          }
        }
        for (long id = 1; id <= ROWS; id++) {
          if (applied.getOrDefault("new" + id, 0L) != 1) {
            notOnce.add("new" + id + " x" + applied.getOrDefault("new" + id, 0L));
          }
        }
        Harness.LOG.info(
            "fault 10 (seed {}): {} rows, {} updates committed, {} rolled back; {} events;"
                + " placeholders {}, wrong content {}, not applied once {}",
            h.seed,
            ROWS,
            committed.size(),
            rolledBack.size(),
            byState.values().stream().mapToInt(List::size).sum(),
            placeholders.size(),
            wrongContent.size(),
            notOnce.size());
        assertThat(notOnce)
            .as("inserts and committed updates applied other than once (of %d)", expected)
            .isEmpty();
      }
      h.settleAndCheck(
          "10. TOAST: updates of a small column beside a large jsonb, update events on");
    }
  }

  /**
   * (c) The table's replica identity set back to DEFAULT while the relay runs, past its start-up
   * check: an update of the small column then reaches the relay without the document, and the
   * placeholder must not reach the topic.
   */
  @Test
  void replicaIdentitySetToDefaultWhileTheRelayRunsNeverYieldsThePlaceholder(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    String topic = kafka.createUniqueTopic("fi-toast-switch-docs", 1);
    try (Harness h =
            new Harness(server, kafka, dir, "toast_switch", Map.of(), "1s", docsMapping(topic));
        TopicReader reader = new TopicReader(kafka, topic)) {
      sql(h.db, DDL, "ALTER TABLE fi.docs REPLICA IDENTITY FULL");
      h.startRelay();
      try (Connection c = h.db.connect();
          PreparedStatement ps = c.prepareStatement(INSERT_DOC)) {
        ps.setLong(1, 1);
        ps.executeUpdate();
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 1);
      sql(
          h.db,
          "ALTER TABLE fi.docs REPLICA IDENTITY DEFAULT",
          "UPDATE fi.docs SET state = 'after' WHERE id = 1");
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> !h.relay().isAlive() || reader.poll().size() >= 2);
      assertThat(h.relay().isAlive()).as("the relay stopped").isFalse();
      assertThat(h.relay().exitCode()).isEqualTo(RelayMain.EXIT_FAILURE);
      String refusal =
          "does not carry the value of column \"doc\" (unchanged and stored out of line, TOAST;";
      assertThat(h.relayLog())
          .contains("the update of fi.docs key 1 at LSN ")
          .contains(refusal)
          .contains("Run ALTER TABLE \"fi\".\"docs\" REPLICA IDENTITY FULL");
      // the fix for what comes next; the change already written stays without the document, and
      // a restart reads it again and refuses again
      long refusals = h.relayLog().lines().filter(l -> l.contains(refusal)).count();
      sql(h.db, "ALTER TABLE fi.docs REPLICA IDENTITY FULL");
      h.startRelay("256m");
      await().atMost(Duration.ofSeconds(90)).until(() -> !h.relay().isAlive());
      assertThat(h.relay().exitCode()).isEqualTo(RelayMain.EXIT_FAILURE);
      assertThat(h.relayLog().lines().filter(l -> l.contains(refusal)).count())
          .isGreaterThan(refusals);
      List<ConsumerRecord<byte[], byte[]>> records = reader.poll();
      assertThat(records)
          .extracting(r -> new String(r.value(), StandardCharsets.UTF_8))
          .as("the insert (again after a restart: at least once), and no placeholder")
          .isNotEmpty()
          .allMatch(v -> v.contains("\"state\":\"new\""))
          .noneMatch(v -> v.contains(PLACEHOLDER));
    }
  }

  /** The consumer of the documents' topic, in this JVM: one effect row per application. */
  private static KafkaConsumerRunner docsConsumer(Harness h, TestKafka kafka, String topic) {
    IdempotentConsumer consumer =
        IdempotentConsumer.builder()
            .dataSource(h.db.dataSource())
            .consumerGroup("fault-toast")
            .handler(
                (event, connection) -> {
                  JsonNode v = json(event.valueAsString());
                  String blob = v.path("doc").path("blob").asText();
                  try (PreparedStatement ps =
                      connection.prepareStatement(
                          "INSERT INTO fi.doc_effects (event_id, ce_type, id, state, md5_ok)"
                              + " VALUES (?, ?, ?, ?, ?)")) {
                    ps.setString(1, event.header(Headers.ID).orElseThrow());
                    ps.setString(2, event.header(Headers.TYPE).orElseThrow());
                    ps.setLong(3, v.path("id").asLong());
                    ps.setString(4, v.path("state").asText());
                    ps.setBoolean(5, md5(blob).equals(v.path("doc_md5").asText()));
                    ps.executeUpdate();
                  }
                })
            .build();
    return KafkaConsumerRunner.builder()
        .bootstrapServers(kafka.bootstrapServers())
        .topics(topic)
        .consumer(consumer)
        .build()
        .start();
  }

  /** Chunks in the table's TOAST relation. */
  private static long toastChunks(Connection c) throws SQLException {
    String toast;
    try (Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'fi.docs'::regclass")) {
      rs.next();
      toast = rs.getString(1);
    }
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM " + toast)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static long count(TestPostgres db, String query) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void sql(TestPostgres db, String... statements) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      for (String st : statements) {
        s.execute(st);
      }
    }
  }

  private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
    Header h = r.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  static String md5(String text) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("MD5").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}

package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/** The backlog hand-over across restarts: an interrupted snapshot resumes, added tables get one. */
@ExtendWith(UnpollStackExtension.class)
class BacklogResumeIT {

  static final int PENDING = 80_000;
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_backlog_resume_it");
  }

  @Test
  void aBacklogSnapshotStoppedMidwayIsCompletedAfterTheRestart(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("resume", 3);
    sql(
        db,
        "create table resume_q (id bigserial primary key, body text,"
            + " status text not null default 'NEW')",
        "insert into resume_q (body, status) select 'done-' || g, 'DONE'"
            + " from generate_series(1, 100) g",
        "insert into resume_q (body, status) select 'pending-' || g, 'NEW'"
            + " from generate_series(1, "
            + PENDING
            + ") g");
    Set<String> expected = ids("select id from resume_q where status = 'NEW'");
    assertThat(expected).hasSize(PENDING);
    UnpollConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "backlog_resume_it")
                + """
                tables:
                  - table: resume_q
                    topic: %s
                    status: {column: status, pending: [NEW], done: [DONE]}
                    backlog: true
                """
                    .formatted(topic));
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      try (Relay first = Relay.builder().config(config).build()) {
        first.start();
        await().atMost(Duration.ofSeconds(120)).until(() -> !reader.poll().isEmpty());
        // the snapshot's progress is in the stored offsets: the restart finds a snapshot under way
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> count("select count(*) from unpoll_relay_offsets_backlog_resume_it") > 0);
      }
      long beforeRestart = distinct(reader.settle(Duration.ofSeconds(1)));
      assertThat(beforeRestart)
          .as("the first relay stopped inside the snapshot")
          .isLessThan(PENDING);

      try (Relay second = Relay.builder().config(config).build()) {
        second.start();
        await()
            .atMost(Duration.ofSeconds(180))
            .failFast(
                "the relay stopped",
                () -> assertThat(second.lastError()).as("the relay's error").isEmpty())
            .until(() -> distinct(reader.poll()) >= PENDING);
        List<ConsumerRecord<byte[], byte[]>> all = reader.settle(Duration.ofSeconds(2));
        assertThat(new HashSet<>(all.stream().map(RelayFixtures::key).toList()))
            .isEqualTo(expected);
        LoggerFactory.getLogger(BacklogResumeIT.class)
            .info(
                "backlog: {} published before the stop, {} records in all ({} duplicates)",
                beforeRestart,
                all.size(),
                all.size() - PENDING);
      }
    }
  }

  @Test
  void aTableAddedToARelayWithOffsetsGetsItsBacklogOnceThenStreams(TestKafka kafka) {
    String topicA = kafka.createUniqueTopic("added-a", 1);
    String topicB = kafka.createUniqueTopic("added-b", 3);
    sql(
        db,
        "create table added_a (id int primary key, note text)",
        "create table added_b (id bigserial primary key, body text,"
            + " status text not null default 'NEW')",
        "insert into added_b (body, status) select 'done-' || g, 'DONE'"
            + " from generate_series(1, 20) g",
        "insert into added_b (body, status) select 'pending-' || g, 'NEW'"
            + " from generate_series(1, 500) g");
    String base = RelayFixtures.baseYaml(db, kafka, "backlog_added_it");
    String tableA =
        """
          - table: added_a
            topic: %s
        """
            .formatted(topicA);
    UnpollConfig before = RelayFixtures.config(db, base + "tables:\n" + tableA);
    try (TopicReader readerA = new TopicReader(kafka, topicA)) {
      try (Relay relay = Relay.builder().config(before).build()) {
        relay.start();
        await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
        sql(db, "insert into added_a select g, 'a' from generate_series(1, 10) g");
        await().atMost(Duration.ofSeconds(60)).until(() -> distinct(readerA.poll()) >= 10);
      }

      // the operator adds the table: publication first, then the config
      sql(db, "alter publication backlog_added_it add table added_b");
      UnpollConfig after =
          RelayFixtures.config(
              db,
              base
                  + "tables:\n"
                  + tableA
                  + """
                    - table: added_b
                      topic: %s
                      status: {column: status, pending: [NEW], done: [DONE]}
                      backlog: true
                  """
                      .formatted(topicB));
      Set<String> expectedB;
      try (TopicReader readerB = new TopicReader(kafka, topicB)) {
        try (Relay relay = Relay.builder().config(after).build()) {
          relay.start();
          await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
          await().atMost(Duration.ofSeconds(60)).until(() -> distinct(readerB.poll()) >= 500);
          sql(
              db,
              "insert into added_b (body) select 'live-' || g from generate_series(1, 30) g",
              "insert into added_a select g, 'a' from generate_series(11, 20) g");
          expectedB = ids("select id from added_b where status = 'NEW'");
          assertThat(expectedB).hasSize(530);
          await().atMost(Duration.ofSeconds(60)).until(() -> distinct(readerB.poll()) >= 530);
          await().atMost(Duration.ofSeconds(60)).until(() -> distinct(readerA.poll()) >= 20);
        }
        List<String> keysB =
            readerB.settle(Duration.ofSeconds(2)).stream().map(RelayFixtures::key).toList();
        assertThat(keysB).doesNotHaveDuplicates();
        assertThat(new HashSet<>(keysB)).isEqualTo(expectedB);

        // the backlog of added_b is done: another restart does not publish it again
        try (Relay relay = Relay.builder().config(after).build()) {
          relay.start();
          await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
          sql(db, "insert into added_a values (21, 'a')");
          await().atMost(Duration.ofSeconds(60)).until(() -> distinct(readerA.poll()) >= 21);
        }
        assertThat(readerB.settle(Duration.ofSeconds(2))).hasSize(530);
      }
    }
  }

  @Test
  void anAddedTablesSnapshotStoppedAfterTheCatchUpIsCompletedAfterTheRestart(TestKafka kafka) {
    String topicA = kafka.createUniqueTopic("catchup-a", 1);
    String topicB = kafka.createUniqueTopic("catchup-b", 3);
    sql(
        db,
        "create table catchup_a (id int primary key, note text)",
        "create table catchup_b (id bigserial primary key, body text,"
            + " status text not null default 'NEW')",
        "insert into catchup_b (body, status) select 'pending-' || g, 'NEW'"
            + " from generate_series(1, "
            + PENDING
            + ") g");
    Set<String> expectedB = ids("select id from catchup_b");
    String base = RelayFixtures.baseYaml(db, kafka, "backlog_catchup_it");
    String tableA =
        """
          - table: catchup_a
            topic: %s
        """
            .formatted(topicA);
    UnpollConfig before = RelayFixtures.config(db, base + "tables:\n" + tableA);
    try (TopicReader readerA = new TopicReader(kafka, topicA)) {
      try (Relay relay = Relay.builder().config(before).build()) {
        relay.start();
        await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
        sql(db, "insert into catchup_a values (1, 'a')");
        await().atMost(Duration.ofSeconds(60)).until(() -> distinct(readerA.poll()) >= 1);
      }
    }
    // while the relay is away: changes of A (streamed first on the next start, the catch-up),
    // and B joins the publication and the config with its backlog
    sql(
        db,
        "insert into catchup_a select g, 'a' from generate_series(2, 50) g",
        "alter publication backlog_catchup_it add table catchup_b");
    UnpollConfig after =
        RelayFixtures.config(
            db,
            base
                + "tables:\n"
                + tableA
                + """
                  - table: catchup_b
                    topic: %s
                    status: {column: status, pending: [NEW], done: [DONE]}
                    backlog: true
                """
                    .formatted(topicB));
    String ledger = "unpoll_relay_backlog_backlog_catchup_it";
    try (TopicReader readerB = new TopicReader(kafka, topicB)) {
      try (Relay first = Relay.builder().config(after).build()) {
        first.start();
        // stop as soon as the ledger says B is done or B's snapshot is being published
        await()
            .atMost(Duration.ofSeconds(120))
            .until(
                () ->
                    count("select count(*) from " + ledger + " where table_name = 'catchup_b'") > 0
                        || !readerB.poll().isEmpty());
      }
      long beforeRestart = distinct(readerB.settle(Duration.ofSeconds(1)));
      assertThat(beforeRestart)
          .as("the first relay stopped before B's snapshot completed")
          .isLessThan(PENDING);

      try (Relay second = Relay.builder().config(after).build()) {
        second.start();
        await()
            .atMost(Duration.ofSeconds(180))
            .failFast(
                "the relay stopped",
                () -> assertThat(second.lastError()).as("the relay's error").isEmpty())
            .until(() -> distinct(readerB.poll()) >= PENDING);
        assertThat(
                new HashSet<>(
                    readerB.settle(Duration.ofSeconds(2)).stream()
                        .map(RelayFixtures::key)
                        .toList()))
            .isEqualTo(expectedB);
      }
    }
  }

  @Test
  void onASlotCreatedByCaptureTheBacklogLosesNothingCommittedSinceTheSlot(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("captured", 3);
    sql(
        db,
        dev.unpoll.contract.RelayNames.heartbeatTableDdl(),
        "create table captured_q (id bigserial primary key, body text,"
            + " status text not null default 'NEW')",
        "insert into captured_q (body) select 'before-' || g from generate_series(1, 40) g",
        // what unpoll capture does: publication, then the slot
        "create publication backlog_captured_it for table public.unpoll_relay_heartbeat,"
            + " captured_q",
        "select pg_create_logical_replication_slot('backlog_captured_it', 'pgoutput')",
        // while no relay runs: new rows, some handled by the poller, and old ones handled
        "insert into captured_q (body) select 'after-' || g from generate_series(1, 30) g",
        "update captured_q set status = 'DONE' where body in ('after-1', 'after-2', 'after-3',"
            + " 'before-1', 'before-2')");
    // still pending (the snapshot) plus every row inserted since the slot (the stream)
    Set<String> expected =
        ids("select id from captured_q where status = 'NEW' or body like 'after-%'");
    assertThat(expected).hasSize(38 + 30);
    UnpollConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "backlog_captured_it")
                + """
                tables:
                  - table: captured_q
                    topic: %s
                    status: {column: status, pending: [NEW], done: [DONE]}
                    backlog: true
                """
                    .formatted(topic));
    assertPublishesExactly(kafka, topic, config, expected);
  }

  @Test
  void onASlotCreatedByCaptureWithoutBacklogEveryRowSinceTheSlotIsStreamed(TestKafka kafka) {
    String topic = kafka.createUniqueTopic("captured-plain", 3);
    sql(
        db,
        dev.unpoll.contract.RelayNames.heartbeatTableDdl(),
        "create table captured_plain_q (id bigserial primary key, body text,"
            + " status text not null default 'NEW')",
        "insert into captured_plain_q (body) select 'before-' || g from generate_series(1, 10) g",
        "create publication captured_plain_it for table public.unpoll_relay_heartbeat,"
            + " captured_plain_q",
        "select pg_create_logical_replication_slot('captured_plain_it', 'pgoutput')",
        "insert into captured_plain_q (body) select 'after-' || g from generate_series(1, 30) g",
        "update captured_plain_q set status = 'DONE' where body in ('after-1', 'after-2')");
    Set<String> expected = ids("select id from captured_plain_q where body like 'after-%'");
    UnpollConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "captured_plain_it")
                + """
                tables:
                  - table: captured_plain_q
                    topic: %s
                    status: {column: status, pending: [NEW], done: [DONE]}
                """
                    .formatted(topic));
    assertPublishesExactly(kafka, topic, config, expected);
  }

  /** Starts a relay with {@code config} and asserts the topic gets exactly the keys expected. */
  private static void assertPublishesExactly(
      TestKafka kafka, String topic, UnpollConfig config, Set<String> expected) {
    try (TopicReader reader = new TopicReader(kafka, topic);
        Relay relay = Relay.builder().config(config).build()) {
      relay.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .failFast(
              "the relay stopped",
              () -> assertThat(relay.lastError()).as("the relay's error").isEmpty())
          .until(() -> distinct(reader.poll()) >= expected.size());
      List<ConsumerRecord<byte[], byte[]>> all = reader.settle(Duration.ofSeconds(2));
      assertThat(new HashSet<>(all.stream().map(RelayFixtures::key).toList())).isEqualTo(expected);
    }
  }

  private static long distinct(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(RelayFixtures::key).distinct().count();
  }

  private static long count(String query) {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    } catch (Exception e) {
      return 0;
    }
  }

  private static Set<String> ids(String query) {
    Set<String> ids = new HashSet<>();
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      while (rs.next()) {
        ids.add(Long.toString(rs.getLong(1)));
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    return ids;
  }
}

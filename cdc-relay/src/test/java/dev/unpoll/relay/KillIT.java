package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The relay as a child JVM, killed with SIGKILL mid-stream and restarted. */
@ExtendWith(UnpollStackExtension.class)
class KillIT {

  static final int ROWS = 3000;
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_kill_it");
    sql(db, "create table kill_q (id int primary key, note text)");
  }

  @Test
  void sigkillMidStreamThenRestartLosesNothingAndDuplicatesOnlyTheUnacknowledgedTail(
      TestKafka kafka, @TempDir Path dir) throws Exception {
    String topic = kafka.createUniqueTopic("kill", 1);
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        RelayFixtures.baseYaml(db, kafka, "kill_it")
            + """
            tables:
              - table: kill_q
                topic: %s
            """
                .formatted(topic));
    AtomicInteger written = new AtomicInteger();
    AtomicBoolean writing = new AtomicBoolean(true);
    Thread writer =
        new Thread(
            () -> {
              try (Connection c = db.connect();
                  PreparedStatement ps = c.prepareStatement("insert into kill_q values (?, 'x')")) {
                while (writing.get() && written.get() < ROWS) {
                  ps.setInt(1, written.get() + 1);
                  ps.executeUpdate();
                  written.incrementAndGet();
                }
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            "kill-writer");
    Process first = null;
    Process second = null;
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      first = startRelay(config, dir.resolve("first.log"));
      awaitSlotActive();
      writer.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> reader.poll().size() >= 300);
      first.destroyForcibly();
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(first.exitValue()).isEqualTo(137);
      int publishedBeforeKill = reader.settle(Duration.ofSeconds(1)).size();
      assertThat(publishedBeforeKill).isLessThan(ROWS);
      awaitSlotInactive();

      second = startRelay(config, dir.resolve("second.log"));
      writer.join(120_000);
      assertThat(written.get()).isEqualTo(ROWS);
      await()
          .atMost(Duration.ofSeconds(120))
          .until(() -> reader.poll().stream().map(RelayFixtures::key).distinct().count() >= ROWS);
      List<Integer> ids =
          new ArrayList<>(
              reader.settle(Duration.ofSeconds(2)).stream()
                  .map(RelayFixtures::key)
                  .map(Integer::parseInt)
                  .toList());

      // one partition: the first run published 1..k in order, the restart resumed at some j <= k+1
      int restartAt = -1;
      for (int i = 1; i < ids.size(); i++) {
        if (ids.get(i) != ids.get(i - 1) + 1) {
          assertThat(restartAt).as("only one restart point").isEqualTo(-1);
          restartAt = i;
        }
      }
      List<Integer> expected = new ArrayList<>();
      if (restartAt < 0) {
        for (int i = 1; i <= ROWS; i++) {
          expected.add(i);
        }
      } else {
        int k = ids.get(restartAt - 1);
        int j = ids.get(restartAt);
        assertThat(j)
            .as("resumed no later than the first unpublished row")
            .isLessThanOrEqualTo(k + 1);
        for (int i = 1; i <= k; i++) {
          expected.add(i);
        }
        for (int i = j; i <= ROWS; i++) {
          expected.add(i);
        }
      }
      assertThat(ids).containsExactlyElementsOf(expected);
      LoggerFactory.getLogger(KillIT.class)
          .info(
              "published before SIGKILL: {}, records in topic: {}, duplicates: {}",
              publishedBeforeKill,
              ids.size(),
              ids.size() - ROWS);
      assertThat(ids.size() - ROWS)
          .as("duplicates (the unacknowledged window)")
          .isLessThan(publishedBeforeKill);

      second.destroy();
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(second.exitValue()).as("graceful stop on SIGTERM").isZero();
    } finally {
      writing.set(false);
      for (Process p : new Process[] {first, second}) {
        if (p != null && p.isAlive()) {
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  @Test
  void sigkillInsideTheBacklogSnapshotThenRestartPublishesEveryPendingRow(
      TestKafka kafka, @TempDir Path dir) throws Exception {
    int pending = 60_000;
    String topic = kafka.createUniqueTopic("kill-backlog", 3);
    sql(
        db,
        "create table kill_backlog_q (id bigserial primary key, body text,"
            + " status text not null default 'NEW')",
        "insert into kill_backlog_q (body, status) select 'done-' || g, 'DONE'"
            + " from generate_series(1, 50) g",
        "insert into kill_backlog_q (body) select 'pending-' || g from generate_series(1, "
            + pending
            + ") g");
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        RelayFixtures.baseYaml(db, kafka, "kill_backlog_it")
            + """
            tables:
              - table: kill_backlog_q
                topic: %s
                status: {column: status, pending: [NEW], done: [DONE]}
                backlog: true
            """
                .formatted(topic));
    Process first = null;
    Process second = null;
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      first = startRelay(config, dir.resolve("first.log"));
      await().atMost(Duration.ofSeconds(120)).until(() -> !reader.poll().isEmpty());
      await().atMost(Duration.ofSeconds(60)).until(() -> storedOffsets("kill_backlog_it") > 0);
      first.destroyForcibly();
      assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
      long beforeKill =
          reader.settle(Duration.ofSeconds(1)).stream().map(RelayFixtures::key).distinct().count();
      assertThat(beforeKill).as("killed inside the backlog snapshot").isLessThan(pending);
      await().atMost(Duration.ofSeconds(60)).until(() -> slotActive("kill_backlog_it", false));

      second = startRelay(config, dir.resolve("second.log"));
      await()
          .atMost(Duration.ofSeconds(180))
          .until(
              () -> reader.poll().stream().map(RelayFixtures::key).distinct().count() >= pending);
      List<String> keys =
          reader.settle(Duration.ofSeconds(2)).stream().map(RelayFixtures::key).toList();
      List<String> expected = new ArrayList<>();
      for (int i = 51; i <= 50 + pending; i++) {
        expected.add(Integer.toString(i));
      }
      assertThat(keys.stream().distinct().sorted().toList())
          .containsExactlyInAnyOrderElementsOf(expected);
      LoggerFactory.getLogger(KillIT.class)
          .info("backlog: {} published before SIGKILL, {} records in all", beforeKill, keys.size());
      second.destroy();
      assertThat(second.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      for (Process p : new Process[] {first, second}) {
        if (p != null && p.isAlive()) {
          p.destroyForcibly();
          p.waitFor(30, TimeUnit.SECONDS);
        }
      }
    }
  }

  /**
   * Issue 10, defect 5 as the issue words it: a 20,000-row COPY (multi-insert WAL records whose
   * rows share one LSN), the relay SIGKILLed three times while it publishes it, restarted each
   * time: every row arrives. SharedLsnRestartIT stops the relay at the one point that lost rows
   * before the fix; this one kills it wherever the publishing happens to be.
   */
  @Test
  void sigkillInsideACopyThreeTimesLosesNoRow(TestKafka kafka, @TempDir Path dir) throws Exception {
    int rows = 20_000;
    String topic = kafka.createUniqueTopic("kill-copy", 3);
    sql(db, "create table kill_copy_q (id int primary key, note text)");
    Path config = dir.resolve("relay.yaml");
    Files.writeString(
        config,
        RelayFixtures.baseYaml(db, kafka, "kill_copy_it")
            + """
              properties:
                linger.ms: 300
                batch.size: 1048576
            tables:
              - table: kill_copy_q
                topic: %s
            """
                .formatted(topic));
    List<Long> killedAt = new ArrayList<>();
    Process relay = null;
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      relay = startRelay(config, dir.resolve("relay-0.log"));
      await().atMost(Duration.ofSeconds(90)).until(() -> slotActive("kill_copy_it", true));
      RelayFixtures.copy(db, "kill_copy_q", 1, rows);
      for (int k = 1; k <= 3; k++) {
        long threshold = k * 4_000L;
        await()
            .atMost(Duration.ofSeconds(120))
            .until(() -> distinctKeys(reader.poll()) >= threshold);
        relay.destroyForcibly();
        assertThat(relay.waitFor(30, TimeUnit.SECONDS)).isTrue();
        killedAt.add(distinctKeys(reader.settle(Duration.ofMillis(300))));
        await().atMost(Duration.ofSeconds(60)).until(() -> slotActive("kill_copy_it", false));
        relay = startRelay(config, dir.resolve("relay-" + k + ".log"));
      }
      await().atMost(Duration.ofSeconds(180)).until(() -> distinctKeys(reader.poll()) >= rows);
      List<ConsumerRecord<byte[], byte[]>> all = reader.settle(Duration.ofSeconds(1));
      assertThat(distinctKeys(all)).isEqualTo(rows);
      LoggerFactory.getLogger(KillIT.class)
          .info("COPY of {}: killed at {} distinct, {} records in all", rows, killedAt, all.size());
      assertThat(killedAt.stream().filter(n -> n < rows).count())
          .as("kills inside the COPY's publishing")
          .isGreaterThanOrEqualTo(2);
    } finally {
      if (relay != null && relay.isAlive()) {
        relay.destroyForcibly();
        relay.waitFor(30, TimeUnit.SECONDS);
      }
    }
  }

  private static long distinctKeys(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(RelayFixtures::key).distinct().count();
  }

  private static Process startRelay(Path config, Path log) throws Exception {
    Files.writeString(config, RelayFixtures.withoutHttp(Files.readString(config)));
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    ProcessBuilder pb =
        new ProcessBuilder(
            java, "-Xmx256m", "-cp", cp, RelayMain.class.getName(), "--config", config.toString());
    pb.environment().put("TEST_DB_PASSWORD", db.password());
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    assertThat(new File(java)).exists();
    return p;
  }

  private static void awaitSlotActive() {
    await().atMost(Duration.ofSeconds(90)).until(() -> slotActive(true));
  }

  private static void awaitSlotInactive() {
    await().atMost(Duration.ofSeconds(60)).until(() -> slotActive(false));
  }

  private static long storedOffsets(String slot) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("select count(*) from pg_tables where tablename = ?")) {
      ps.setString(1, "unpoll_relay_offsets_" + slot);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        if (rs.getLong(1) == 0) {
          return 0;
        }
      }
    }
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("select count(*) from unpoll_relay_offsets_" + slot)) {
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  private static boolean slotActive(boolean active) throws Exception {
    return slotActive("kill_it", active);
  }

  private static boolean slotActive(String slot, boolean active) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("select active from pg_replication_slots where slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1) == active;
      }
    }
  }
}

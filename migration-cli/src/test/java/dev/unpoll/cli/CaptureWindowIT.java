package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code capture} on a table that takes writes: every row committed after the window start has its
 * event. The race between capture's steps is made certain with a lock: a transaction holding SHARE
 * UPDATE EXCLUSIVE on the table stops capture right at the statement that puts the table in the
 * publication, rows are committed while it waits, then the lock goes.
 */
@ExtendWith(UnpollStackExtension.class)
class CaptureWindowIT {
  static final String DB = "cli_capture_window_it";
  static TestPostgres db;
  static TestKafka kafka;

  @TempDir Path dir;

  @BeforeAll
  static void database(TestPostgres server, TestKafka k) {
    db = server.createDatabase(DB);
    kafka = k;
  }

  @AfterAll
  static void dropSlots() {
    Fixtures.sql(
        db,
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            + " WHERE database = '"
            + DB
            + "' AND NOT active");
  }

  @Test
  void captureWhileAWriterInsertsPublishesEveryRowCommittedAfterTheWindowStart() throws Exception {
    String table = "live_queue";
    String topic = kafka.createUniqueTopic("live", 3);
    Fixtures.integrationTable(db, table);
    Path config = configFile("live");
    plan(config, table, topic);

    List<Long> whileWaiting = captureWithRowsCommittedMidway(config, table);

    assertEveryRowAfterTheWindowStartIsPublished(config, table, topic, whileWaiting);
  }

  @Test
  void addingASecondTableToARelaysPublicationPublishesEveryRowAfterTheWindowStart()
      throws Exception {
    String first = "first_queue";
    String second = "second_queue";
    String firstTopic = kafka.createUniqueTopic("first", 1);
    String secondTopic = kafka.createUniqueTopic("second", 3);
    Fixtures.integrationTable(db, first);
    Fixtures.integrationTable(db, second);
    Path config = configFile("two");
    plan(config, first, firstTopic);
    Cli.Result capture = cli(config, "capture", "--table", first);
    assertThat(capture.exit()).as(capture.toString()).isZero();
    runRelayUntilStreaming(config); // the relay has its slot, publication and offsets

    plan(config, second, secondTopic);
    List<Long> whileWaiting = captureWithRowsCommittedMidway(config, second);

    assertEveryRowAfterTheWindowStartIsPublished(config, second, secondTopic, whileWaiting);
  }

  @Test
  void rollbackThenCaptureAgainPublishesEveryRowAfterTheNewWindowStart() throws Exception {
    String table = "again_queue";
    String topic = kafka.createUniqueTopic("again", 3);
    Fixtures.integrationTable(db, table);
    Path config = configFile("again");
    plan(config, table, topic);
    Cli.Result capture = cli(config, "capture", "--table", table);
    assertThat(capture.exit()).as(capture.toString()).isZero();
    // the relay streams and stores an offset in the slot it is about to lose
    try (Relay relay = Relay.builder().config(relayConfig(config)).build();
        TopicReader reader = new TopicReader(kafka, topic)) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      Fixtures.insert(db, table, 1);
      await().atMost(Duration.ofSeconds(60)).until(() -> !ceIds(reader).isEmpty());
    }
    assertThat(Fixtures.number(db, "SELECT count(*) FROM unpoll_relay_offsets_slot_again"))
        .as("offsets stored in the first slot")
        .isPositive();
    Cli.Result rollback = cli(config, "rollback", "--table", table);
    assertThat(rollback.exit()).as(rollback.toString()).isZero();
    // the slot is gone, and with it what the offsets pointed into: they go too, so the relay
    // started after the next capture does not refuse the new slot as a gap in its stream
    assertThat(rollback.out())
        .contains("dropped replication slot slot_again", "unpoll_relay_offsets_slot_again");
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_class WHERE relname = 'unpoll_relay_offsets_slot_again'"))
        .isZero();

    List<Long> whileWaiting = captureWithRowsCommittedMidway(config, table);

    assertEveryRowAfterTheWindowStartIsPublished(config, table, topic, whileWaiting);
  }

  /**
   * Runs {@code capture} while a writer inserts at full speed, and while capture waits on a lock at
   * the statement that puts the table in the publication, commits rows; returns their ids.
   */
  private List<Long> captureWithRowsCommittedMidway(Path config, String table) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong written = new AtomicLong();
    CompletableFuture<Void> writer =
        CompletableFuture.runAsync(
            () -> {
              try (Connection c = db.connect();
                  PreparedStatement ps =
                      c.prepareStatement(
                          "INSERT INTO " + table + " (order_id, event_type) VALUES (1, 'Live')")) {
                while (!stop.get()) {
                  ps.executeUpdate();
                  written.incrementAndGet();
                }
              } catch (SQLException e) {
                throw new IllegalStateException(e);
              }
            });
    List<Long> whileWaiting;
    try (Connection lock = db.connect()) {
      lock.setAutoCommit(false);
      try (Statement s = lock.createStatement()) {
        s.execute("LOCK TABLE " + table + " IN SHARE UPDATE EXCLUSIVE MODE");
      }
      CompletableFuture<Cli.Result> capture =
          CompletableFuture.supplyAsync(() -> cli(config, "capture", "--table", table));
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  capture.isDone()
                      || Fixtures.number(
                              db,
                              "SELECT count(*) FROM pg_stat_activity WHERE datname = '"
                                  + DB
                                  + "' AND wait_event_type = 'Lock'"
                                  + " AND query ILIKE '%PUBLICATION%'")
                          > 0);
      assertThat(capture).as("capture waits for the table's lock").isNotDone();
      whileWaiting = Fixtures.insert(db, table, 20);
      lock.commit();
      Cli.Result r = capture.get(60, TimeUnit.SECONDS);
      assertThat(r.exit()).as(r.toString()).isZero();
    } finally {
      long before = written.get();
      await().atMost(Duration.ofSeconds(60)).until(() -> written.get() > before + 50);
      stop.set(true);
      writer.get(60, TimeUnit.SECONDS);
    }
    return whileWaiting;
  }

  private void assertEveryRowAfterTheWindowStartIsPublished(
      Path config, String table, String topic, List<Long> whileWaiting) throws Exception {
    try (Relay relay = Relay.builder().config(relayConfig(config)).build();
        TopicReader reader = new TopicReader(kafka, topic)) {
      relay.start();
      Fixtures.insert(db, table, 5); // after capture, whether or not the relay streams yet
      Set<String> expected = rowsInTheWindow(table);
      assertThat(expected).as("rows committed after the window start").hasSizeGreaterThan(5);
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () -> {
                assertThat(relay.lastError()).as("relay error").isEmpty();
                Set<String> missing = new TreeSet<>(expected);
                missing.removeAll(ceIds(reader));
                assertThat(missing).as("rows in the window without their event").isEmpty();
              });
      assertThat(relay.isStreaming()).isTrue();
      // Rows committed while capture stood between its steps are before the window start (the
      // poller still handles them), or they are published.
      for (long id : whileWaiting) {
        String ceId = "public." + table + ":" + id;
        assertThat(!expected.contains(ceId) || ceIds(reader).contains(ceId))
            .as(ceId + " is in the window, so it must be published")
            .isTrue();
      }
    }
  }

  private static Set<String> rowsInTheWindow(String table) throws SQLException {
    Set<String> ids = new HashSet<>();
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT id FROM "
                    + table
                    + " WHERE created_at >= (SELECT max(at) FROM unpoll.migration_log"
                    + " WHERE table_name = ? AND to_phase = 'capturing')")) {
      ps.setString(1, "public." + table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          ids.add("public." + table + ":" + rs.getLong(1));
        }
      }
    }
    return ids;
  }

  private void runRelayUntilStreaming(Path config) throws Exception {
    try (Relay relay = Relay.builder().config(relayConfig(config)).build()) {
      relay.start();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> relay.isStreaming() || relay.lastError().isPresent());
      assertThat(relay.lastError()).isEmpty();
    }
  }

  private static UnpollConfig relayConfig(Path config) {
    return UnpollConfig.load(config, Map.of("DB_PASSWORD", db.password()));
  }

  private Path configFile(String name) throws Exception {
    Path file = dir.resolve(name + ".yaml");
    Files.writeString(
        file,
        "source:\n"
            + "  jdbc-url: "
            + db.jdbcUrl()
            + "\n"
            + "  user: "
            + db.user()
            + "\n"
            + "  password: ${DB_PASSWORD}\n"
            + "  slot: slot_"
            + name
            + "\n"
            + "  publication: pub_"
            + name
            + "\n"
            + "  heartbeat-interval: 1s\n"
            + "kafka:\n"
            + "  bootstrap-servers: "
            + kafka.bootstrapServers()
            + "\n");
    return file;
  }

  /** Plans the table into the relay's file; no backlog snapshot: the window is about the slot. */
  private static void plan(Path config, String table, String topic) throws Exception {
    Cli.Result plan = cli(config, "plan", "--table", table, "--topic", topic);
    assertThat(plan.exit()).as(plan.toString()).isZero();
    Files.writeString(config, Files.readString(config).replace("backlog: true", "backlog: false"));
  }

  private static Cli.Result cli(Path config, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--config", config.toString()));
    return Cli.run(Map.of("DB_PASSWORD", db.password()), all.toArray(String[]::new));
  }

  /** The ce_id of every record {@code reader} has read so far. */
  private static Set<String> ceIds(TopicReader reader) {
    Set<String> ceIds = new HashSet<>();
    for (ConsumerRecord<byte[], byte[]> r : reader.poll()) {
      Header h = r.headers().lastHeader("ce_id");
      if (h != null) {
        ceIds.add(new String(h.value(), StandardCharsets.UTF_8));
      }
    }
    return ceIds;
  }
}

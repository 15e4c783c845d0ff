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
import java.sql.DriverManager;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.PGReplicationStream;

/**
 * A new HA leader whose slot is still held by the previous leader's walsender waits for it, logged
 * and bounded per round, instead of exiting with the slot error; then it streams.
 */
@ExtendWith(UnpollStackExtension.class)
class HaSlotHandoverIT {
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_ha_handover_it");
    sql(db, "CREATE TABLE handover_q (id int PRIMARY KEY, note text)");
  }

  @Test
  void aNewLeaderWaitsWhileTheOldWalsenderHoldsTheSlotThenStreams(TestKafka kafka)
      throws Exception {
    String topic = kafka.createUniqueTopic("handover", 1);
    UnpollConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "handover")
                + """
                tables:
                  - table: handover_q
                    topic: %s
                http:
                  port: 0
                ha:
                  enabled: true
                  lock-name: ha-handover-it
                """
                    .formatted(topic));
    try (Relay first = Relay.builder().config(config).build()) {
      first.start(); // creates publication, slot and offsets
      await().atMost(Duration.ofSeconds(60)).until(first::isStreaming);
    }

    await()
        .atMost(Duration.ofSeconds(60))
        .until(
            () ->
                number(
                        db,
                        "SELECT count(*) FROM pg_replication_slots"
                            + " WHERE slot_name = 'handover' AND NOT active")
                    == 1);
    RelayRunner runner = RelayRunner.of(config);
    CompletableFuture<Integer> exit;
    try (Connection holder = replicationConnection();
        PGReplicationStream oldWalsender =
            holder
                .unwrap(PGConnection.class)
                .getReplicationAPI()
                .replicationStream()
                .logical()
                .withSlotName("handover")
                .withSlotOption("proto_version", "1")
                .withSlotOption("publication_names", "handover")
                .start()) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  number(
                          db,
                          "SELECT count(*) FROM pg_replication_slots"
                              + " WHERE slot_name = 'handover' AND active")
                      == 1);
      exit = CompletableFuture.supplyAsync(runner::run);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> exit.isDone() || "waiting-for-slot".equals(runner.role()));
      assertThat(exit)
          .as("the new leader must wait for the slot, not exit: %s", runner.failure())
          .isNotDone();
    } // the old walsender goes: the slot is free
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> runner.relay() != null && runner.relay().isStreaming());
      sql(db, "INSERT INTO handover_q VALUES (1, 'after the handover')");
      await()
          .atMost(Duration.ofSeconds(60))
          .untilAsserted(
              () ->
                  assertThat(reader.poll())
                      .extracting(r -> RelayFixtures.header(r, "ce_id"))
                      .contains("public.handover_q:1"));
    } finally {
      runner.close();
    }
    assertThat(exit.get(60, TimeUnit.SECONDS)).isZero();
  }

  private static long number(TestPostgres db, String query) throws Exception {
    try (Connection c = db.connect();
        java.sql.Statement s = c.createStatement();
        java.sql.ResultSet rs = s.executeQuery(query)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Connection replicationConnection() throws Exception {
    Properties p = new Properties();
    PGProperty.USER.set(p, db.user());
    PGProperty.PASSWORD.set(p, db.password());
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(p, "10");
    PGProperty.REPLICATION.set(p, "database");
    PGProperty.PREFER_QUERY_MODE.set(p, "simple");
    return DriverManager.getConnection(db.jdbcUrl(), p);
  }
}

package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(UnpollStackExtension.class)
class HeartbeatIT {

  @Test
  void heartbeatsMoveTheSlotForwardWhileTheCapturedTableIsIdleAndOtherTablesWriteWal(
      TestPostgres server, TestKafka kafka) throws Exception {
    TestPostgres db = server.createDatabase("relay_heartbeat_it");
    sql(
        db,
        "create table idle_q (id int primary key)",
        "create table busy_uncaptured (id serial primary key, filler text)");
    String yaml =
        RelayFixtures.baseYaml(db, kafka, "heartbeat_it")
            + """
            tables:
              - table: idle_q
                topic: idle
            """;
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (Relay relay =
        Relay.builder().config(RelayFixtures.config(db, yaml)).meterRegistry(registry).build()) {
      relay.start();
      await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      sql(
          db,
          "insert into busy_uncaptured (filler) select repeat('x', 500) from generate_series(1, 20000)");
      long walAfterWrites = lsn(db, "select pg_current_wal_lsn()::text");
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  lsn(
                          db,
                          "select confirmed_flush_lsn::text from pg_replication_slots where slot_name = 'heartbeat_it'")
                      >= walAfterWrites);
      assertThat(
              registry
                  .counter(
                      "unpoll.relay.skipped",
                      "table",
                      "public.unpoll_relay_heartbeat",
                      "reason",
                      "heartbeat")
                  .count())
          .isPositive();
    }
  }

  private static long lsn(TestPostgres db, String query) throws Exception {
    try (Connection c = db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(query)) {
      rs.next();
      String[] parts = rs.getString(1).split("/");
      return (Long.parseLong(parts[0], 16) << 32) | Long.parseLong(parts[1], 16);
    }
  }
}

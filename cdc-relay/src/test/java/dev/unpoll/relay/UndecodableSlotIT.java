package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A slot the relay cannot decode: created before its publication, with a change in between.
 * pgoutput looks the publication up as of each decoded change and fails with {@code publication
 * "..." does not exist} on every retry; the relay must stop with exit 3 and say so.
 */
@ExtendWith(UnpollStackExtension.class)
class UndecodableSlotIT {
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_undecodable_it");
  }

  @AfterAll
  static void dropSlots() {
    sql(
        db,
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            + " WHERE database = 'relay_undecodable_it' AND NOT active");
  }

  @Test
  void aSlotCreatedBeforeItsPublicationStopsTheRelayWithExitThreeInsteadOfRetryingForever(
      TestKafka kafka) throws Exception {
    String topic = kafka.createUniqueTopic("undecodable", 1);
    sql(
        db,
        dev.unpoll.contract.RelayNames.heartbeatTableDdl(),
        "CREATE TABLE early_q (id int PRIMARY KEY, note text)",
        "SELECT pg_create_logical_replication_slot('undecodable', 'pgoutput')",
        "INSERT INTO early_q VALUES (1, 'after the slot, before the publication')",
        "CREATE PUBLICATION undecodable FOR TABLE early_q, "
            + dev.unpoll.contract.RelayNames.HEARTBEAT_TABLE.quoted());
    UnpollConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "undecodable")
                + """
                tables:
                  - table: early_q
                    topic: %s
                http:
                  port: 0
                """
                    .formatted(topic));
    RelayRunner runner = RelayRunner.of(config);
    CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(runner::run);
    try {
      assertThat(exit.get(60, TimeUnit.SECONDS)).as(runner.failure().orElse("")).isEqualTo(3);
    } catch (TimeoutException e) {
      throw new AssertionError(
          "the relay still runs 60 s after facing a change it cannot decode (retrying forever)", e);
    } finally {
      runner.close();
    }
    assertThat(runner.failure())
        .hasValueSatisfying(
            m ->
                assertThat(m)
                    .contains("replication slot undecodable cannot be decoded")
                    .contains("publication \"undecodable\" does not exist")
                    .contains("pg_drop_replication_slot('undecodable')")
                    .contains("unpoll verify"));
  }
}

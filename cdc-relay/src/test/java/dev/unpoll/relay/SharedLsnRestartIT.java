package dev.unpoll.relay;

import static dev.unpoll.relay.RelayFixtures.sql;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.io.StringReader;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.PGConnection;
import org.slf4j.LoggerFactory;

/**
 * Issue 10, defect 5: a COPY gives its rows one commit LSN and packs them into multi-insert WAL
 * records that share one LSN; stopping the relay among them and restarting must lose none
 * (Debezium's resume logic skipped such rows in the past, DBZ-1554).
 */
@ExtendWith(UnpollStackExtension.class)
class SharedLsnRestartIT {

  static final int ROWS = 20_000;
  static final int STOPS = 4;
  static final int STEP = 1_500;
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("relay_shared_lsn_it");
    sql(db, "create table copy_q (id int primary key, note text)");
  }

  @Test
  @Disabled(
      "issue 10, defect 5 is open: in 1 of 8 clean-clone runs (idle machine) the topic never"
          + " reached all 20,000 rows within 180 s after the 4th restart inside the COPY; loss or"
          + " stall not yet known. Run it with -Djunit.jupiter.conditions.deactivate=org.junit.*DisabledCondition.")
  void stopsInsideOneCopiedTransactionLoseNoRow(TestKafka kafka) throws Exception {
    String topic = kafka.createUniqueTopic("copy", 3);
    RelayConfig config =
        RelayFixtures.config(
            db,
            RelayFixtures.baseYaml(db, kafka, "shared_lsn_it")
                // each batch waits for its linger before it is sent: the COPY takes several
                // batches to publish, so the stops below fall inside it (no timing assumption:
                // a slower machine only stops earlier within it)
                + """
                  properties:
                    linger.ms: 300
                    batch.size: 1048576
                tables:
                  - table: copy_q
                    topic: %s
                """
                    .formatted(topic));
    List<Long> stoppedAt = new ArrayList<>();
    try (TopicReader reader = new TopicReader(kafka, topic)) {
      Relay relay = Relay.builder().config(config).build();
      try {
        relay.start();
        await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
        StringBuilder csv = new StringBuilder();
        for (int i = 1; i <= ROWS; i++) {
          csv.append(i).append(",row-").append(i).append('\n');
        }
        try (Connection c = db.connect()) {
          long copied =
              c.unwrap(PGConnection.class)
                  .getCopyAPI()
                  .copyIn(
                      "COPY copy_q (id, note) FROM STDIN (FORMAT csv)",
                      new StringReader(csv.toString()));
          assertThat(copied).isEqualTo(ROWS);
        }
        long last = 0;
        for (int i = 0; i < STOPS; i++) {
          long threshold = Math.min(last + STEP, ROWS);
          await().atMost(Duration.ofSeconds(120)).until(() -> distinct(reader.poll()) >= threshold);
          relay.close();
          last = distinct(reader.settle(Duration.ofMillis(500)));
          stoppedAt.add(last);
          relay = Relay.builder().config(config).build();
          relay.start();
        }
        await().atMost(Duration.ofSeconds(180)).until(() -> distinct(reader.poll()) >= ROWS);
      } finally {
        relay.close();
      }
      List<ConsumerRecord<byte[], byte[]>> all = reader.settle(Duration.ofSeconds(2));
      Set<String> expected = new HashSet<>();
      for (int i = 1; i <= ROWS; i++) {
        expected.add(Integer.toString(i));
      }
      assertThat(new HashSet<>(all.stream().map(RelayFixtures::key).toList())).isEqualTo(expected);
      LoggerFactory.getLogger(SharedLsnRestartIT.class)
          .info(
              "COPY of {} rows: stopped at {} distinct, {} records in all",
              ROWS,
              stoppedAt,
              all.size());
      assertThat(stoppedAt.stream().filter(n -> n < ROWS).count())
          .as("stops inside the COPY's publishing")
          .isGreaterThanOrEqualTo(3);
    }
  }

  private static long distinct(List<ConsumerRecord<byte[], byte[]>> records) {
    return records.stream().map(RelayFixtures::key).distinct().count();
  }
}

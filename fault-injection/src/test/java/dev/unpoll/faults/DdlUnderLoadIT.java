package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 11: {@code ALTER TABLE ... ADD COLUMN} and a column type change (a table rewrite)
 * on the captured table while the writers commit to it. Nothing is lost, nothing applied twice, and
 * rows written after the new column exists carry it in their events.
 */
@ExtendWith(UnpollStackExtension.class)
class DdlUnderLoadIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static int legacyCommitted(Harness h) {
    return (int)
        h.ledger.all().stream()
            .filter(e -> e.kind().equals("legacy") && e.outcome() == Ledger.Outcome.COMMITTED)
            .count();
  }

  @Test
  void addColumnAndTypeChangeUnderLoad(TestPostgres server, TestKafka kafka, @TempDir Path dir)
      throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "ddl")) {
      h.startRelay();
      h.startConsumer();
      h.load.start();
      long point = h.nextPoint(200, 1_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
      long addedAfter;
      try (Connection c = h.db.connect();
          Statement s = c.createStatement()) {
        h.injected();
        s.execute("ALTER TABLE fi.jobs ADD COLUMN region text NOT NULL DEFAULT 'eu'");
        try (ResultSet rs = s.executeQuery("SELECT max(id) FROM fi.jobs")) {
          rs.next();
          addedAfter = rs.getLong(1);
        }
      }
      h.released();
      // then alternately a type change (a table rewrite under an exclusive lock) and a new column
      for (int i = 1; i < Math.max(2, Harness.INJECTIONS); i++) {
        long next = h.nextPoint(200, 1_000);
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= next);
        String ddl =
            i % 2 == 1
                ? "ALTER TABLE fi.jobs ALTER COLUMN seq TYPE "
                    + ((i / 2) % 2 == 0 ? "numeric(20, 0)" : "bigint")
                : "ALTER TABLE fi.jobs ADD COLUMN extra_" + i + " int";
        try (Connection c = h.db.connect();
            Statement s = c.createStatement()) {
          h.injected();
          s.execute(ddl);
        }
        h.released();
      }
      long point3 = h.nextPoint(200, 1_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point3);

      Checker.Report r = h.settleAndCheck("11. ADD COLUMN and a column type change under load");
      assertThat(r.committed()).isPositive();

      long withRegion = 0;
      long laterRows = 0;
      for (ConsumerRecord<byte[], byte[]> rec :
          kafka.readFromBeginning(h.legacyTopic, legacyCommitted(h), Duration.ofSeconds(60))) {
        JsonNode v = JSON.readTree(new String(rec.value(), StandardCharsets.UTF_8));
        if (v.path("id").asLong() > addedAfter + 1) {
          laterRows++;
          if ("eu".equals(v.path("region").asText(null))) {
            withRegion++;
          }
        }
      }
      assertThat(laterRows).isPositive();
      assertThat(withRegion).as("rows after ADD COLUMN carry it").isEqualTo(laterRows);
    }
  }
}

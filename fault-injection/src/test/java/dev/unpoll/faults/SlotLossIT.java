package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.relay.RelayMain;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 7: the slot dropped, or invalidated by {@code max_slot_wal_keep_size}, while the
 * relay is down and the writers go on. The relay must refuse to start with a message that says what
 * happened and what to do, and must never create a new slot by itself: a new slot starts at the
 * current WAL position, and what was committed in between would be lost without a word.
 */
@ExtendWith(UnpollStackExtension.class)
class SlotLossIT {

  @Test
  void aDroppedSlotIsRefusedNotRecreated(TestPostgres server, TestKafka kafka, @TempDir Path dir)
      throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "slot_dropped")) {
      h.startRelay();
      h.load.start();
      long point = h.nextPoint(200, 1_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
      h.killRelay();
      try (Connection c = h.db.connect();
          Statement s = c.createStatement()) {
        s.execute("SELECT pg_drop_replication_slot('" + h.slot + "')");
      }
      h.startRelay("256m");
      await().atMost(Duration.ofSeconds(90)).until(() -> !h.relay().isAlive());
      h.load.stop();
      assertThat(h.relay().exitCode()).isEqualTo(RelayMain.EXIT_SLOT);
      assertThat(h.relayLog()).contains("the slot was dropped").contains("does not recreate it");
      assertThat(slotExists(h.db, h.slot)).as("no slot created silently").isFalse();
      assertThat(h.unpoll("doctor"))
          .as("doctor says what happened")
          .contains("slot " + h.slot + " does not exist, but the relay's offsets")
          .contains("was dropped");
      assertThat(h.unpoll("status"))
          .as("status says it too")
          .contains("\"exists\" : false")
          .contains("dropped, but the relay's offsets");
    }
  }

  @Test
  void anInvalidatedSlotIsRefusedNotRecreated(TestKafka kafka, @TempDir Path dir) throws Exception {
    try (EmbeddedPostgresServer pg =
            EmbeddedPostgresServer.builder().setting("max_slot_wal_keep_size", "1MB").start();
        Harness h = new Harness(pg.postgres(), kafka, dir, "slot_invalidated")) {
      h.startRelay();
      h.load.start();
      long point = h.nextPoint(200, 1_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
      h.killRelay();
      h.load.stop();
      // far more WAL than the slot may keep, then checkpoints, until PostgreSQL gives it up
      await()
          .atMost(Duration.ofMinutes(2))
          .until(
              () -> {
                try (Connection c = h.db.connect();
                    Statement s = c.createStatement()) {
                  s.execute(
                      "CREATE TABLE IF NOT EXISTS fi.filler (b text);"
                          + " INSERT INTO fi.filler SELECT repeat('x', 1000)"
                          + " FROM generate_series(1, 5000); CHECKPOINT");
                }
                return "lost".equals(walStatus(h.db, h.slot));
              });
      h.startRelay("256m");
      await().atMost(Duration.ofSeconds(90)).until(() -> !h.relay().isAlive());
      assertThat(h.relay().exitCode()).isEqualTo(RelayMain.EXIT_SLOT);
      assertThat(h.relayLog()).contains("invalidated");
      assertThat(walStatus(h.db, h.slot))
          .as("the lost slot is left for the operator")
          .isEqualTo("lost");
      assertThat(h.unpoll("status"))
          .as("status says it")
          .contains("invalidated: the WAL it needed");
    }
  }

  private static boolean slotExists(TestPostgres db, String slot) throws Exception {
    return walStatus(db, slot) != null;
  }

  private static String walStatus(TestPostgres db, String slot) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps =
            c.prepareStatement("SELECT wal_status FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, slot);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getString(1) : null;
      }
    }
  }
}

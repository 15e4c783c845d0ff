package dev.unpoll.benchmarks;

import dev.unpoll.contract.RelayNames;
import dev.unpoll.testkit.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;

/** The relay's replication state of one slot, dropped between the arms of a harness. */
final class RelaySlots {
  private RelaySlots() {}

  /** Opens a connection to the database of the slot. */
  @FunctionalInterface
  interface Connector {
    Connection connect() throws SQLException;
  }

  /** As {@link #dropWithRelayState(Connector, String, Duration)}, on a test server. */
  static void dropWithRelayState(TestPostgres pg, String slot, Duration timeout)
      throws SQLException, InterruptedException {
    dropWithRelayState(pg::connect, slot, timeout);
  }

  /**
   * Drops {@code slot} and the relay's offsets and backlog tables for it, so that the relay's next
   * start on it is a first one; retries while a walsender that is going away still holds the slot.
   */
  static void dropWithRelayState(Connector db, String slot, Duration timeout)
      throws SQLException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try (Connection c = db.connect();
          Statement st = c.createStatement()) {
        st.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                + " WHERE slot_name = '"
                + slot
                + "'");
        st.execute("DROP TABLE IF EXISTS " + RelayNames.offsetsTable(slot));
        st.execute("DROP TABLE IF EXISTS " + RelayNames.backlogTable(slot));
        return;
      } catch (SQLException e) {
        if (System.nanoTime() > deadline) {
          throw e; // the walsender did not let go of the slot
        }
        Thread.sleep(100);
      }
    }
  }
}

package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 8: the captured tables are idle while other tables take writes. WAL is the
 * server's, and a slot only moves when its client confirms a position; pgoutput sends nothing for
 * tables outside the publication (not even an empty transaction, since PostgreSQL 15), so without a
 * change of its own the relay has nothing to confirm and the slot pins every byte written since.
 * The relay's heartbeats (an upsert into {@code public.unpoll_relay_heartbeat}, which is in the
 * publication) give it one.
 *
 * <p>Each run writes at least {@link #WRITTEN} of WAL into a table that is not captured, in the
 * relay's own database and then in another database of the same server (a server of the test's own,
 * so that nothing else writes WAL), and measures the slot's retained WAL ({@code
 * pg_current_wal_lsn() - restart_lsn}) and its {@code confirmed_flush_lsn}. With heartbeats (every
 * second) the retained WAL must end below one segment; without (the relay cannot turn them off: the
 * interval is 1 h, so none fires within the run) it must hold all that was written. Then the
 * writers start on the captured tables and the checker must find nothing lost.
 *
 * <p>The positions are waited for, not slept for: a {@code CHECKPOINT} logs the running
 * transactions, which is where logical decoding may move {@code restart_lsn} to, and it moves once
 * the client confirms a position past that record. The first such candidate may have been taken
 * during the writes, so the wait runs twice: after the second, every candidate left lies after the
 * writes.
 */
@ExtendWith(UnpollStackExtension.class)
class WalRetentionIT {
  /** WAL written per phase into tables the relay does not capture. */
  static final long WRITTEN = 64L << 20;

  /**
   * The bound with heartbeats: one WAL segment (16 MB, the default {@code wal_segment_size}). After
   * a checkpoint and a confirmed position past it, the slot holds only what was written since that
   * checkpoint's running-transactions record (heartbeats, the next checkpoint): kilobytes. A
   * segment is the unit PostgreSQL recycles, and a quarter of what each phase writes.
   */
  static final long BOUND = 16L << 20;

  @Test
  void withHeartbeatsRetainedWalStaysBoundedWhileOtherTablesTakeWrites(
      TestKafka kafka, @TempDir Path dir) throws Exception {
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.builder().start();
        Harness h = new Harness(pg.postgres(), kafka, dir, "wal_heartbeats", Map.of(), "1s", "")) {
      TestPostgres other = pg.postgres().createDatabase("fi_wal_heartbeats_other");
      h.startRelay();
      h.startConsumer();

      Slot start = slot(h);
      h.injected();
      long written = writeWal(h.db, WRITTEN);
      confirmPastTwice(h);
      h.released();
      Slot same = slot(h);
      Harness.LOG.info(
          "fault 8, heartbeats every 1s, {} MB written in the relay's database: {}",
          mb(written),
          same);
      assertThat(same.confirmedPast(start)).as("the heartbeats moved the slot").isPositive();
      assertThat(same.retained())
          .as("retained WAL after %d MB written in the relay's database", mb(written))
          .isLessThan(BOUND);

      h.injected();
      long writtenElsewhere = writeWal(other, WRITTEN);
      confirmPastTwice(h);
      h.released();
      Slot elsewhere = slot(h);
      Harness.LOG.info(
          "fault 8, heartbeats every 1s, {} MB written in another database: {}",
          mb(writtenElsewhere),
          elsewhere);
      assertThat(elsewhere.retained())
          .as("retained WAL after %d MB written in another database", mb(writtenElsewhere))
          .isLessThan(BOUND);

      // the captured tables wake up: nothing of theirs may be lost
      h.load.start();
      long point = h.nextPoint(1_000, 2_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
      h.settleAndCheck(
          "8a. idle captured tables while other tables and databases take writes, heartbeats on");
    }
  }

  @Test
  void withoutHeartbeatsRetainedWalGrowsWithWhatOtherTablesWrite(TestKafka kafka, @TempDir Path dir)
      throws Exception {
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.builder().start();
        Harness h =
            new Harness(pg.postgres(), kafka, dir, "wal_no_heartbeats", Map.of(), "1h", "")) {
      TestPostgres other = pg.postgres().createDatabase("fi_wal_no_heartbeats_other");
      h.startRelay();
      h.startConsumer();

      String beforeWrites = currentLsn(h.db);
      h.injected();
      long written = writeWal(h.db, WRITTEN);
      receivedPastTwice(h);
      h.released();
      Slot same = slot(h);
      Harness.LOG.info(
          "fault 8, no heartbeats (interval 1h), {} MB written in the relay's database: {}",
          mb(written),
          same);
      assertThat(same.confirmedNotPast(beforeWrites))
          .as("nothing to confirm: the slot stays before the writes")
          .isTrue();
      assertThat(same.retained()).isGreaterThanOrEqualTo(written);

      h.injected();
      long writtenElsewhere = writeWal(other, WRITTEN);
      receivedPastTwice(h);
      h.released();
      Slot elsewhere = slot(h);
      Harness.LOG.info(
          "fault 8, no heartbeats (interval 1h), {} MB more written in another database: {}",
          mb(writtenElsewhere),
          elsewhere);
      assertThat(elsewhere.confirmedNotPast(beforeWrites)).isTrue();
      assertThat(elsewhere.retained()).isGreaterThanOrEqualTo(written + writtenElsewhere);

      // a change of a captured table is what lets the slot go; nothing may be lost meanwhile
      h.load.start();
      long point = h.nextPoint(1_000, 2_000);
      await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
      confirmPastTwice(h);
      Slot woken = slot(h);
      Harness.LOG.info("fault 8, no heartbeats, the captured tables taking writes: {}", woken);
      assertThat(woken.retained()).isLessThan(BOUND);
      h.settleAndCheck(
          "8b. idle captured tables while other tables and databases take writes, heartbeats off");
    }
  }

  /**
   * The slot's positions.
   *
   * @param current {@code pg_current_wal_lsn()}
   * @param confirmed {@code confirmed_flush_lsn}
   * @param restart {@code restart_lsn}
   * @param retained {@code pg_current_wal_lsn() - restart_lsn} in bytes
   */
  record Slot(String current, String confirmed, String restart, long retained) {
    long confirmedPast(Slot earlier) {
      return lsnDiff(confirmed, earlier.confirmed);
    }

    boolean confirmedNotPast(String lsn) {
      return lsnDiff(confirmed, lsn) <= 0;
    }

    @Override
    public String toString() {
      return String.format(
          "current %s, confirmed_flush_lsn %s, restart_lsn %s, retained WAL %,d bytes (%.1f MB)",
          current, confirmed, restart, retained, retained / 1048576.0);
    }
  }

  private static long lsnDiff(String a, String b) {
    return parseLsn(a) - parseLsn(b);
  }

  private static long parseLsn(String lsn) {
    int slash = lsn.indexOf('/');
    return (Long.parseLong(lsn.substring(0, slash), 16) << 32)
        | Long.parseLong(lsn.substring(slash + 1), 16);
  }

  private static long mb(long bytes) {
    return bytes >> 20;
  }

  private static Slot slot(Harness h) throws SQLException {
    try (Connection c = h.db.connect();
        PreparedStatement ps =
            c.prepareStatement(
                "SELECT pg_current_wal_lsn()::text, confirmed_flush_lsn::text, restart_lsn::text,"
                    + " pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint"
                    + " FROM pg_replication_slots WHERE slot_name = ?")) {
      ps.setString(1, h.slot);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new IllegalStateException("slot " + h.slot + " does not exist");
        }
        return new Slot(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4));
      }
    }
  }

  /**
   * Writes at least {@code bytes} of WAL into {@code public.wal_filler}, a table no relay captures;
   * returns how much was written.
   */
  private static long writeWal(TestPostgres db, long bytes) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE IF NOT EXISTS public.wal_filler (n bigint, body text)");
      String start = currentLsn(c);
      long written = 0;
      while (written < bytes) {
        // rows of ~1 kB: below the TOAST threshold, so written as they are
        s.execute(
            "INSERT INTO public.wal_filler SELECT g, repeat(md5(random()::text), 30)"
                + " FROM generate_series(1, 5000) g");
        written = lsnDiff(currentLsn(c), start);
      }
      return written;
    }
  }

  private static String currentLsn(TestPostgres db) throws SQLException {
    try (Connection c = db.connect()) {
      return currentLsn(c);
    }
  }

  private static String currentLsn(Connection c) throws SQLException {
    try (Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_current_wal_lsn()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** {@code CHECKPOINT}; returns the position after it. */
  private static String checkpoint(TestPostgres db) throws SQLException {
    try (Connection c = db.connect();
        Statement s = c.createStatement()) {
      s.execute("CHECKPOINT");
      return currentLsn(c);
    }
  }

  /** Twice: a checkpoint, then wait until the slot's confirmed position passes it. */
  private static void confirmPastTwice(Harness h) throws SQLException {
    for (int round = 0; round < 2; round++) {
      String position = checkpoint(h.db);
      await()
          .atMost(Duration.ofSeconds(90))
          .until(() -> lsnDiff(slot(h).confirmed(), position) >= 0);
    }
  }

  /**
   * Twice: a checkpoint, then wait until the relay has received everything up to it (its
   * walsender's {@code write_lsn}: the client reports what it received even when it has nothing to
   * confirm), so that a slot which stays behind stays behind because nothing was confirmed, not
   * because the relay had not read that far yet.
   */
  private static void receivedPastTwice(Harness h) throws SQLException {
    for (int round = 0; round < 2; round++) {
      String position = checkpoint(h.db);
      await()
          .atMost(Duration.ofSeconds(90))
          .until(
              () -> {
                try (Connection c = h.db.connect();
                    PreparedStatement ps =
                        c.prepareStatement(
                            "SELECT r.write_lsn::text FROM pg_stat_replication r"
                                + " JOIN pg_replication_slots s ON s.active_pid = r.pid"
                                + " WHERE s.slot_name = ?")) {
                  ps.setString(1, h.slot);
                  try (ResultSet rs = ps.executeQuery()) {
                    return rs.next()
                        && rs.getString(1) != null
                        && lsnDiff(rs.getString(1), position) >= 0;
                  }
                }
              });
    }
  }
}

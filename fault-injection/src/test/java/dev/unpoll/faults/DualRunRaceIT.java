package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.HeldCommit;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 12: dual-run. The legacy poller ({@link LegacyPoller}: {@code FOR UPDATE SKIP
 * LOCKED}, an in-progress status, failures re-queued) and the claiming consumer race on every row
 * of {@code fi.jobs} while the writers commit; at random points a writer's commit is held between
 * its WAL flush and its visibility, so that the relay publishes the row and the consumer tries to
 * claim it before any other session can see it. Every row is handled exactly once, by one of the
 * two.
 *
 * <p>The hold is PostgreSQL's own: this test's server names a synchronous standby that does not
 * exist, and only the slow writer's session asks for {@code synchronous_commit = on}; its commit
 * waits in {@code SyncRep} after the flush. {@code pg_cancel_backend} releases it (the commit is
 * durable already). No sleeps: the test waits for the consumer's log to show its claim of that very
 * record undecided, and for the row to still be invisible.
 */
@ExtendWith(UnpollStackExtension.class)
class DualRunRaceIT {
  static final String CLAIM_GROUP = "fault-ledger-claim";

  @Test
  void pollerAndClaimingConsumerRaceWhileWritersAreSlowToBecomeVisible(
      TestKafka kafka, @TempDir Path dir) throws Exception {
    try (EmbeddedPostgresServer pg =
            EmbeddedPostgresServer.builder().settings(HeldCommit.SERVER_SETTINGS).start();
        Harness h = new Harness(pg.postgres(), kafka, dir, "dual_run");
        LegacyPoller poller = new LegacyPoller(h.db.dataSource(), h.random.nextLong())) {
      h.startRelay();
      try (ChildJvm claiming =
              h.newConsumer(
                  List.of(
                      "-D" + LedgerConsumer.CLAIM_PROPERTY + "=true",
                      "-D" + LedgerConsumer.GROUP_PROPERTY + "=" + CLAIM_GROUP),
                  h.legacyTopic);
          ChildJvm outboxConsumer = h.newConsumer(List.of(), h.outboxTopic)) {
        poller.start();
        h.load.start();
        for (int i = 0; i < Harness.INJECTIONS; i++) {
          long point = h.nextPoint(100, 1_000);
          await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
          h.injected();
          slowWriter(h, 900_000_000L + i, i);
          h.released();
        }
        Checker.Report r =
            h.settleAndCheck(
                "12. the poller and the claiming consumer racing in dual-run, commits slow to"
                    + " become visible");
        Harness.LOG.info(
            "dual-run: the poller handled {} rows and failed {} (re-queued); the consumer claimed"
                + " {}",
            poller.handled(),
            poller.failed(),
            legacyEffects(h) - poller.handled());
        assertThat(poller.handled()).as("the poller won some rows").isPositive();
        assertThat(poller.failed()).as("the poller re-queued some rows").isPositive();
        assertThat(legacyEffects(h) - poller.handled())
            .as("the consumer claimed some rows")
            .isPositive();
        assertThat(r.committed()).isPositive();
      }
    }
  }

  /**
   * One row committed by a writer whose commit is held flushed but invisible until the relay has
   * published it and the claiming consumer has tried and failed to decide its claim.
   */
  private static void slowWriter(Harness h, long id, int seq) throws Exception {
    try (HeldCommit writer = HeldCommit.open(h.db)) {
      try (PreparedStatement ps =
          writer
              .connection()
              .prepareStatement(
                  "INSERT INTO fi.jobs (id, k, seq, body) VALUES (?, 'slow', ?, ?)")) {
        ps.setLong(1, id);
        ps.setLong(2, seq);
        ps.setString(3, "slow " + id + " " + LoadGenerator.MARKER);
        ps.executeUpdate();
      }
      writer.commitAndHold();
      // the relay publishes the flushed commit; the consumer's claim of it stays undecided
      String[] at = new String[1];
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> (at[0] = h.checker.coordinatesOf(id)) != null);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () ->
                  Files.readString(h.dir.resolve("consumer.log"))
                      .contains(
                          "group "
                              + CLAIM_GROUP
                              + ": "
                              + at[0]
                              + " failed on attempt 1 (dev.unpoll.consumer.ClaimNotDecidedException)"));
      assertThat(writer.held()).as("still held").isTrue();
      assertThat(visible(h, id)).as("row %d is not visible yet", id).isFalse();
      writer.release(); // durable already: PostgreSQL only warns
      assertThat(visible(h, id)).isTrue();
      h.ledger.record(
          new Ledger.Entry("legacy", Long.toString(id), "slow", seq, Ledger.Outcome.COMMITTED));
    }
  }

  private static boolean visible(Harness h, long id) throws SQLException {
    try (Connection c = h.db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM fi.jobs WHERE id = " + id)) {
      rs.next();
      return rs.getLong(1) == 1;
    }
  }

  private static long legacyEffects(Harness h) throws SQLException {
    try (Connection c = h.db.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT count(*) FROM fi.effects WHERE kind = 'legacy'")) {
      rs.next();
      return rs.getLong(1);
    }
  }
}

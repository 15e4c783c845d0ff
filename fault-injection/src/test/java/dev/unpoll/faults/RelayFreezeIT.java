package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 2 (first half): the relay frozen with SIGSTOP until PostgreSQL has given up on it
 * ({@code wal_sender_timeout}, 2 s in this database, ends its walsender), then resumed with SIGCONT
 * while the writers go on. Whether the relay reconnects by itself or exits (a supervisor then
 * restarts it, as here), nothing committed is lost and no effect happens twice.
 */
@ExtendWith(UnpollStackExtension.class)
class RelayFreezeIT {

  @Test
  void relayFrozenPastWalSenderTimeoutThenResumed(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "relay_freeze")) {
      try (Connection c = h.db.connect();
          Statement s = c.createStatement()) {
        // per database: the logical walsender reads it at connection; other tests keep 60 s
        s.execute("ALTER DATABASE " + h.db.database() + " SET wal_sender_timeout = '2s'");
      }
      h.startRelay();
      h.startConsumer();
      h.load.start();
      int restarts = 0;
      for (int i = 0; i < Harness.INJECTIONS; i++) {
        long point = h.nextPoint(100, 2_000);
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
        h.injected();
        h.relay().freeze();
        // deterministic, no sleep: PostgreSQL itself says when it has dropped the frozen relay
        await().atMost(Duration.ofSeconds(60)).until(() -> h.slotActive(false));
        long frozenAt = h.published();
        h.relay().thaw();
        await()
            .atMost(Duration.ofSeconds(120))
            .until(() -> !h.relay().isAlive() || h.slotActive(true));
        if (!h.relay().isAlive()) {
          restarts++;
          h.startRelay();
        }
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() > frozenAt);
        h.released();
      }
      Harness.LOG.info(
          "relay SIGSTOP: the relay exited after {} of {} thaws and was restarted",
          restarts,
          Harness.INJECTIONS);
      Checker.Report r =
          h.settleAndCheck("2a. relay SIGSTOP past wal_sender_timeout, then SIGCONT");
      assertThat(r.committed()).isPositive();
    }
  }
}

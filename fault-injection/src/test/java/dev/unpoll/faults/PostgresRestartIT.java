package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.consumer.RetryPolicy;
import dev.unpoll.testkit.EmbeddedPostgresServer;
import dev.unpoll.testkit.EmbeddedPostgresServer.Shutdown;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 4: PostgreSQL restarted (fast) and crashed (immediate shutdown, recovery at
 * start) under load, on a server of this test's own. The consumer is given a backlog first (frozen
 * while the relay publishes), so that it works while the database is away; the database stays down
 * until the consumer has failed more attempts than its retry budget. Committed rows survive, the
 * relay resumes (or is restarted when it exits), and no event is dead-lettered or skipped because
 * the consumer's database was away: every committed event is applied once.
 */
@ExtendWith(UnpollStackExtension.class)
class PostgresRestartIT {

  @Test
  void postgresFastRestartAndCrashUnderLoad(TestKafka kafka, @TempDir Path dir) throws Exception {
    try (EmbeddedPostgresServer pg = EmbeddedPostgresServer.builder().start();
        Harness h = new Harness(pg.postgres(), kafka, dir, "pg_restart")) {
      h.startRelay();
      h.startConsumer();
      h.load.start();
      for (int i = 0; i < Harness.INJECTIONS; i++) {
        Shutdown mode = i % 2 == 0 ? Shutdown.FAST : Shutdown.IMMEDIATE;
        long point = h.nextPoint(100, 1_000);
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
        h.consumer().freeze();
        long backlog = h.published() + 300;
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= backlog);
        long retriesBefore = h.consumerRetries();
        h.injected();
        pg.stopPostmaster(mode);
        h.consumer().thaw();
        // down until the consumer has used up a whole retry budget on the missing database
        await()
            .atMost(Duration.ofMinutes(2))
            .until(
                () -> h.consumerRetries() >= retriesBefore + RetryPolicy.DEFAULT_MAX_ATTEMPTS + 1);
        pg.startPostmaster();
        h.superviseRelay();
        h.released();
      }
      Checker.Report r =
          h.settleAndCheck("4. PostgreSQL fast restart and immediate (crash) restart, alternately");
      assertThat(r.committed()).isPositive();
      assertThat(h.load.reconnects()).as("the writers saw the server go").isPositive();
    }
  }
}

package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, faults 1 and 5: the relay and the consumer killed with SIGKILL at random points
 * (seeded) while the writers commit small transactions to a legacy table and the outbox, some
 * rolled back; the relay also inside a large transaction inserted by {@code COPY} (rows sharing WAL
 * records) and by one INSERT. After every run: every committed row and event is in its topic and
 * applied exactly once, nothing rolled back appears, per key effects never go backwards.
 */
@ExtendWith(UnpollStackExtension.class)
class ProcessKillIT {

  @Test
  void relayKilledAtRandomPointsAndInsideLargeTransactions(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "relay_kill")) {
      h.startRelay();
      h.startConsumer();
      h.load.start();
      for (int i = 0; i < Harness.INJECTIONS; i++) {
        long point = h.nextPoint(100, 2_000);
        await().atMost(Duration.ofMinutes(2)).until(() -> h.published() >= point);
        h.injected();
        h.killRelay();
        h.checkSlotNotAheadOfKafka();
        h.startRelay();
        h.released();
      }
      for (boolean copy : new boolean[] {true, false}) {
        // the large transaction commits while the relay runs; the relay dies while publishing it
        long before = h.published();
        CompletableFuture<long[]> large =
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return h.load.largeTransaction(Harness.LARGE_ROWS, copy);
                  } catch (java.sql.SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        large.get();
        long point = before + 1 + h.random.nextInt(Harness.LARGE_ROWS * 9 / 10);
        await().atMost(Duration.ofMinutes(3)).until(() -> h.published() >= point);
        h.injected();
        h.killRelay();
        assertThat(h.published())
            .as("killed inside the large transaction")
            .isLessThan(before + Harness.LARGE_ROWS + 5_000L);
        h.checkSlotNotAheadOfKafka();
        h.startRelay();
        h.released();
      }
      Checker.Report r =
          h.settleAndCheck(
              "1. relay SIGKILL at random points, inside a COPY and an INSERT transaction");
      assertThat(r.committed()).isGreaterThan(2L * Harness.LARGE_ROWS);
      assertThat(r.rolledBack()).isPositive();
    }
  }

  @Test
  void consumerKilledAtRandomPoints(TestPostgres server, TestKafka kafka, @TempDir Path dir)
      throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "consumer_kill")) {
      h.startRelay();
      h.startConsumer();
      h.load.start();
      for (int i = 0; i < Harness.INJECTIONS; i++) {
        long applied = h.checker.effects();
        long point = applied + 50 + h.random.nextInt(1_000);
        await().atMost(Duration.ofMinutes(2)).until(() -> h.checker.effects() >= point);
        h.injected();
        h.consumer().kill();
        h.startConsumer();
        h.released();
      }
      Checker.Report r = h.settleAndCheck("5a. consumer SIGKILL at random points");
      assertThat(r.rolledBack()).isPositive();
    }
  }

  @Test
  void oneOfTwoConsumersInAGroupKilledAtRandomPoints(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "rebalance")) {
      h.startRelay();
      h.startConsumer();
      ChildJvm second = h.newConsumer();
      try {
        h.load.start();
        for (int i = 0; i < Harness.INJECTIONS; i++) {
          long point = h.checker.effects() + 50 + h.random.nextInt(1_000);
          await().atMost(Duration.ofMinutes(2)).until(() -> h.checker.effects() >= point);
          // the partitions move to the survivor, then are shared again: two rebalances per kill
          h.injected();
          if (h.random.nextBoolean()) {
            second.kill();
            second = h.newConsumer();
          } else {
            h.consumer().kill();
            h.startConsumer();
          }
          h.released();
        }
        Checker.Report r =
            h.settleAndCheck("5b. one of two consumers in a group SIGKILL (rebalance)");
        assertThat(r.rolledBack()).isPositive();
      } finally {
        second.close();
      }
    }
  }
}

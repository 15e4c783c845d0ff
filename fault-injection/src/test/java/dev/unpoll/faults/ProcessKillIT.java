package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.ChildJvm;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
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

  /**
   * Fault 5: the consumer killed, in turn, (a) with SIGKILL at a random point, (b) right after its
   * database commit and before its offset commit, (c) inside the handler with its transaction open.
   * (b) and (c) are hit on purpose, not by chance: the consumer process halts itself there ({@link
   * LedgerConsumer#HALT_AFTER_COMMIT_PROPERTY}, {@link LedgerConsumer#HALT_IN_HANDLER_PROPERTY}),
   * at a random count of effects, as abruptly as SIGKILL.
   */
  @Test
  void consumerKilledAtRandomPoints(TestPostgres server, TestKafka kafka, @TempDir Path dir)
      throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "consumer_kill")) {
      h.startRelay();
      h.startConsumer();
      h.load.start();
      int[] kinds = new int[3];
      for (int i = 0; i < Harness.INJECTIONS; i++) {
        int kind = i % 3;
        if (kind == 0) {
          long applied = h.checker.effects();
          long point = applied + 50 + h.random.nextInt(1_000);
          await().atMost(Duration.ofMinutes(2)).until(() -> h.checker.effects() >= point);
          h.injected();
          h.consumer().kill();
        } else {
          // a consumer told where to halt takes over from the running one (stopped cleanly)
          h.consumer().stop(Duration.ofSeconds(30));
          haltAt(h, kind);
          h.startConsumer();
          ChildJvm halting = h.consumer();
          await().atMost(Duration.ofMinutes(2)).until(() -> !halting.isAlive());
          h.injected();
          String where =
              LedgerConsumer.HALTING
                  + (kind == 1 ? "after database commit #" : "inside the handler at effect #");
          try (var lines = Files.lines(dir.resolve("consumer.log"))) {
            assertThat(lines.filter(l -> l.startsWith(where)).count())
                .as("consumer %s halted where it was told to", halting)
                .isEqualTo(kinds[kind] + 1L);
          }
          haltAt(h, 0);
        }
        kinds[kind]++;
        h.startConsumer();
        h.released();
      }
      Harness.LOG.info(
          "consumer kills: {} SIGKILL at random points, {} between the database commit and the"
              + " offset commit, {} inside the handler",
          kinds[0],
          kinds[1],
          kinds[2]);
      Checker.Report r =
          h.settleAndCheck(
              "5a. consumer killed: SIGKILL at random points, after its database commit, mid-handler");
      assertThat(r.rolledBack()).isPositive();
    }
  }

  /** Configures the next consumer for injection {@code i}: (b) and (c) halt at a random count. */
  private static void haltAt(Harness h, int i) {
    h.consumerJvmOptions.clear();
    int n = 1 + h.random.nextInt(200);
    switch (i % 3) {
      case 1 ->
          h.consumerJvmOptions.add("-D" + LedgerConsumer.HALT_AFTER_COMMIT_PROPERTY + "=" + n);
      case 2 -> h.consumerJvmOptions.add("-D" + LedgerConsumer.HALT_IN_HANDLER_PROPERTY + "=" + n);
      default -> {}
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

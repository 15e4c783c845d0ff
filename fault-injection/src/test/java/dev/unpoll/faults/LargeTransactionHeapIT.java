package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, fault 9: one transaction of 200,000 rows of about 1 KB each (some 200 MB of row data)
 * through a relay whose heap is capped at 128 MB. A relay that held a transaction in memory would
 * die of it; the relay streams it, and every event arrives and is applied once.
 */
@ExtendWith(UnpollStackExtension.class)
class LargeTransactionHeapIT {
  static final int ROWS = Integer.getInteger("unpoll.faults.heap-rows", 200_000);

  @Test
  void twoHundredThousandRowsOfOneKilobyteThroughA128MegabyteHeap(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    try (Harness h = new Harness(server, kafka, dir, "large_heap")) {
      h.startRelay("128m");
      await().atMost(Duration.ofSeconds(90)).until(() -> h.slotActive(true));
      h.startConsumer();
      h.injected();
      h.load.largeTransaction(ROWS, false, 1_000);
      await()
          .atMost(Duration.ofMinutes(5))
          .until(() -> !h.relay().isAlive() || h.published() >= ROWS);
      assertThat(h.relay().isAlive()).as("the relay survived the transaction").isTrue();
      assertThat(h.relayLog()).doesNotContain("OutOfMemoryError");
      h.released();
      Checker.Report r =
          h.settleAndCheck(
              "9. one 200,000-row transaction (1 KB rows) through a relay with a 128 MB heap");
      assertThat(r.committed()).isEqualTo(ROWS);
    }
  }
}

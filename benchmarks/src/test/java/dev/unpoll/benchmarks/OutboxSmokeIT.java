package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.OrderTransactions.Variant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Smoke run of the O1 harness (docs/benchmarks.md, section Outbox). It proves that every variant,
 * the legacy row and each peer library included, runs its business transaction and writes its row
 * in its own table, and that the interleaved benchmark yields every O1 measure; its figures mean
 * nothing. The full run is never part of the suite.
 */
class OutboxSmokeIT {

  private static final int EACH = 3;

  @Test
  void everyVariantCommitsItsOrderAndWritesItsRow() throws Exception {
    try (OrderTransactions transactions = new OrderTransactions()) {
      for (Variant v : Variant.values()) {
        for (int i = 0; i < EACH; i++) {
          transactions.run(v);
        }
      }

      assertThat(transactions.committedOrders())
          .isEqualTo(transactions.startedOrders())
          .isEqualTo((long) EACH * Variant.values().length);
      assertThat(transactions.rows("order_integration")).isEqualTo(EACH);
      assertThat(transactions.rows(GruelboxPeer.TABLE)).isEqualTo(EACH);
      assertThat(transactions.rows(ModulithPeer.TABLE)).isEqualTo(EACH);
      assertThat(transactions.rows(NamastackPeer.TABLE)).isEqualTo(EACH);
      // TABLE and TABLE_COMMIT leave their rows; the delete-after-insert variants do not.
      assertThat(transactions.rows("unpoll_outbox")).isEqualTo(2L * EACH);
      // the peers' dispatchers are off: nothing ran after the commit, every entry is pending
      assertThat(transactions.rows(GruelboxPeer.TABLE + " WHERE processed = false"))
          .isEqualTo(EACH);
      assertThat(transactions.rows(ModulithPeer.TABLE + " WHERE completion_date IS NULL"))
          .isEqualTo(EACH);
      assertThat(transactions.rows(NamastackPeer.TABLE + " WHERE status = 'NEW'")).isEqualTo(EACH);
    }
  }

  @Test
  void theInterleavedBenchmarkYieldsEveryO1Measure() throws Exception {
    OutboxRatios.Run run =
        OutboxRatios.run(
            new OptionsBuilder()
                .include(OutboxInterleavedBenchmark.class.getName() + ".transaction")
                .forks(0)
                .warmupIterations(0)
                .measurementIterations(1)
                .measurementTime(TimeValue.seconds(4))
                .param("sliceMillis", "20")
                .param("warmupTransactions", "20")
                .build());
    List<Measure> measures = OutboxRatios.report(run.forks());

    assertThat(run.forks()).hasSize(1);
    assertThat(measures)
        .extracting(Measure::id)
        .contains(
            "O1",
            "O1.legacy.table_commit",
            "O1.legacy.wal_message_commit",
            "O1.peer.gruelbox",
            "O1.peer.modulith",
            "O1.peer.namastack",
            "O1.peer",
            "O1.bare.table_commit",
            "O1.bare.legacy_row");
    assertThat(measures)
        .allSatisfy(
            m -> {
              assertThat(m.value()).isPositive();
              assertThat(m.baseline()).isPositive();
              assertThat(m.ratio().median()).isPositive();
              assertThat(m.unit()).isEqualTo("tx/s");
            });
    assertThat(measures)
        .filteredOn(
            m ->
                m.id().startsWith("O1.peer")
                    || m.id().endsWith("_commit") && m.id().startsWith("O1.legacy"))
        .allSatisfy(m -> assertThat(m.goal()).isNotNull());
  }
}

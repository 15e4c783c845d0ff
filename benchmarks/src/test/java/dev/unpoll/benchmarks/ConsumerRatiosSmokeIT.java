package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.ConsumerBench.Paced;
import dev.unpoll.benchmarks.ConsumerBench.Transactions;
import dev.unpoll.benchmarks.ConsumerRatios.ModeResult;
import dev.unpoll.benchmarks.ConsumerRatios.Result;
import dev.unpoll.benchmarks.ConsumerRatios.Settings;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Smoke run of the C1 harness: one round per transaction mode on small batches, and one paced round
 * of 200 events per batch wait. It proves the harness runs every variant through its exactly-once,
 * bookkeeping and redelivery checks (a failed check throws), that the paced runs count transactions
 * and latency, and that the measures have the shape results.json expects. Its numbers mean nothing
 * and none is asserted; the full run is never part of the suite (docs/benchmarks.md, section
 * "Consumer: what idempotency costs").
 */
class ConsumerRatiosSmokeIT {

  @Test
  void everyVariantAndEveryWaitRunsThroughItsChecks() throws Exception {
    List<Duration> waits = List.of(Duration.ZERO, Duration.ofMillis(20));
    Settings settings =
        new Settings(
            List.of(Transactions.BATCH, Transactions.RECORD),
            1,
            0,
            Map.of(Transactions.BATCH, 1_000, Transactions.RECORD, 100),
            50,
            waits,
            200,
            200,
            1);

    Result result = ConsumerRatios.run(settings);
    ConsumerRatios.report(settings, result, false);

    assertThat(result.modes()).extracting(ModeResult::mode).containsExactly(Transactions.values());
    assertThat(result.modes())
        .allSatisfy(
            m -> {
              assertThat(m.rounds()).hasSize(1);
              assertThat(m.rounds().get(0)).containsOnlyKeys(ConsumerBench.Variant.values());
              // the redelivery check ran for every variant, and for PLAIN it saw the double effects
              assertThat(m.redelivery()).hasSize(3);
              assertThat(m.redelivery().get(0))
                  .contains("PLAIN")
                  .contains("applied more than once");
            });
    assertThat(result.paced()).hasSize(1);
    Map<Duration, Paced> round = result.paced().get(0);
    assertThat(round).containsOnlyKeys(waits);
    assertThat(round.values())
        .allSatisfy(
            p -> {
              assertThat(p.events()).isEqualTo(200);
              assertThat(p.transactions()).isBetween(1L, 200L);
              assertThat(p.p50Millis()).isPositive();
              assertThat(p.p99Millis()).isGreaterThanOrEqualTo(p.p50Millis());
            });

    List<Measure> measures = ConsumerRatios.measures(settings, result);
    assertThat(measures)
        .extracting(Measure::id)
        .contains(
            "C1",
            "C1.per_record",
            "C1.tx_per_event.wait_0ms",
            "C1.tx_per_event.wait_20ms",
            "C1.latency.p99.wait_20ms");
    Measure c1 = measures.stream().filter(m -> m.id().equals("C1")).findFirst().orElseThrow();
    assertThat(c1.goal()).isEqualTo("≥ 0.9");
    assertThat(c1.met()).isNotNull();
    assertThat(c1.ratio()).isNotNull();
    Measure waited =
        measures.stream()
            .filter(m -> m.id().equals("C1.tx_per_event.wait_20ms"))
            .findFirst()
            .orElseThrow();
    assertThat(waited.baseline()).isNotNull();
    assertThat(waited.met()).isNotNull();
  }
}

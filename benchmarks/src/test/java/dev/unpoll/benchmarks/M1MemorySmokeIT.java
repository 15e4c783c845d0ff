package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.M1Memory.Phase;
import dev.unpoll.benchmarks.M1Memory.Settings;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Smoke run of the M1 harness: a relay process drains small bursts and transactions. It proves the
 * harness works (every phase's rows reach Kafka exactly, the relay's RSS is read from its own
 * process, the measures are formed); its figures mean nothing. The full run is never part of the
 * suite (docs/benchmarks.md, section M1).
 */
class M1MemorySmokeIT {

  @Test
  void measuresTheRelayProcess(@TempDir Path dir) throws Exception {
    Settings settings = new Settings("256m", 5_000, 2, 20_000, 40_000, 0, 2);

    M1Memory.Result result = M1Memory.run(settings, dir);
    M1Memory.report(result, false);

    assertThat(result.phases())
        .extracting(Phase::name)
        .containsExactly("saturated", "steady", "tx.small", "tx.large");
    // the relay ran a full collection halfway through each transaction: its live set was read
    assertThat(result.phase("tx.small").liveMidMb()).isPositive();
    assertThat(result.phase("tx.large").liveMidMb()).isPositive();
    assertThat(result.phases()).allSatisfy(p -> assertThat(p.rows()).isPositive());
    assertThat(result.phase("tx.large").rows()).isEqualTo(40_000);
    // a JVM with Kafka's and Debezium's classes loaded is tens of MB at least: the RSS is read
    assertThat(result.phases()).allSatisfy(p -> assertThat(p.rssMaxMb()).isGreaterThan(50));
    assertThat(M1Memory.measures(result))
        .extracting(Measure::id)
        .containsExactly(
            "M1",
            "M1.rss.steady",
            "M1.heap.flat",
            "M1.heap.peak_after_gc",
            "M1.idle_cpu",
            "M1.saturated");
    assertThat(result.idleCpuPercent()).isGreaterThanOrEqualTo(0);
  }
}

package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.benchmarks.R1Drain.Arm;
import dev.unpoll.benchmarks.R1Drain.Run;
import dev.unpoll.benchmarks.R1Drain.Settings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Smoke run of the R1 harness: 5,000 rows, one round of the six arms, no warm-up. It proves the
 * arms and their checks work (each arm saw every row, each topic holds exactly the rows) and that
 * the JVM's CPU is charged to thread groups; its rates mean nothing. The full run is never part of
 * the suite (docs/benchmarks.md, section R1).
 */
class R1DrainSmokeIT {

  @Test
  void everyArmDrainsTheWholeBacklog(@TempDir Path dir) throws Exception {
    Settings settings = new Settings(5_000, 1, 0, 100, true, true);

    R1Drain.Result result = R1Drain.run(settings);
    R1Drain.report(settings, result, false);
    List<Run> runs = result.runs();

    assertThat(runs).extracting(Run::arm).containsExactlyInAnyOrder(Arm.values());
    assertThat(runs).allSatisfy(r -> assertThat(r.rows()).isEqualTo(5_000));
    assertThat(runs).allSatisfy(r -> assertThat(r.rate()).isPositive());
    // the relay's own Debezium streaming thread and batch thread did work, and were seen doing it
    Run relay = runs.stream().filter(r -> r.arm() == Arm.RELAY).findFirst().orElseThrow();
    assertThat(relay.threads().get(ThreadCpu.DECODE)).isPositive();
    assertThat(relay.threads().get(ThreadCpu.HANDLER)).isPositive();
    Path chart = dir.resolve("r1-throughput.png");
    R1Drain.writeChart(chart, runs);
    assertThat(javax.imageio.ImageIO.read(chart.toFile()).getWidth()).isEqualTo(1000);
  }
}

package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.RelayPollerBench.Phase;
import dev.unpoll.benchmarks.RelayPollerBench.Variant;
import dev.unpoll.benchmarks.RelayPollerRatios.L1Arm;
import dev.unpoll.benchmarks.RelayPollerRatios.Result;
import dev.unpoll.benchmarks.RelayPollerRatios.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Smoke run of the L1/D1 harness: one round, 50 rows/s for 2 s per arm, two idle tables for 2 s. It
 * proves the arms and their checks work (every row handled exactly once by the arm's path, which
 * the harness checks after each phase and aborts otherwise), that every measure id is there with
 * its fields, and that the plot is written; its numbers mean nothing. The full run is never part of
 * the suite (docs/benchmarks.md, section L1 and D1).
 */
class RelayPollerRatiosSmokeIT {

  @TempDir Path dir;

  /**
   * A poller phase while a rogue writes a second handling of one row of the window into the
   * handling log, as a double delivery would.
   */
  private static void runWithOneRowHandledTwice(RelayPollerBench bench) throws Exception {
    ScheduledExecutorService rogue = Executors.newSingleThreadScheduledExecutor();
    AtomicBoolean done = new AtomicBoolean();
    try {
      rogue.scheduleWithFixedDelay(
          () -> {
            if (done.get()) {
              return;
            }
            try (Connection c = bench.postgres().connect();
                Statement s = c.createStatement()) {
              // the newest handled row, once there is one besides the probe (the smallest id)
              int n =
                  s.executeUpdate(
                      "INSERT INTO shipping.handling_log"
                          + " (integration_id, handled_by, row_created_at)"
                          + " SELECT integration_id, handled_by, row_created_at"
                          + " FROM shipping.handling_log"
                          + " WHERE integration_id > (SELECT min(integration_id)"
                          + " FROM shipping.handling_log)"
                          + " ORDER BY integration_id DESC LIMIT 1");
              done.set(n == 1);
            } catch (SQLException e) {
              throw new IllegalStateException(e);
            }
          },
          0,
          50,
          TimeUnit.MILLISECONDS);
      bench.run(
          Variant.POLLER,
          Duration.ofMillis(100),
          50,
          1,
          Duration.ofMillis(1100),
          Duration.ofMillis(200));
    } finally {
      rogue.shutdownNow();
      rogue.awaitTermination(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void everyArmHandlesEveryRowOnceAndTheMeasuresAndPlotAreWritten() throws Exception {
    Settings settings =
        new Settings(
            1,
            List.of(50.0),
            2,
            Duration.ofSeconds(1),
            Duration.ofMillis(100),
            0,
            50,
            2,
            2,
            2,
            Duration.ofSeconds(1),
            Duration.ofMillis(200),
            true,
            true);

    Result result;
    try (RelayPollerBench bench = RelayPollerBench.start(settings.slowPoll())) {
      // the checks bite: a row handled twice aborts the phase
      assertThatThrownBy(() -> runWithOneRowHandledTwice(bench))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("POLLER: 1 problems")
          .hasMessageContaining("handled twice");

      result = RelayPollerRatios.run(settings, bench);
    }
    List<Measure> measures = RelayPollerRatios.report(settings, result);

    List<Phase> written = new ArrayList<>();
    result.l1().get("50rps").forEach(r -> written.addAll(r.values()));
    result.load().forEach(r -> written.addAll(r.values()));
    assertThat(result.l1().get("50rps").get(0)).containsOnlyKeys(L1Arm.values());
    assertThat(result.load().get(0))
        .containsOnlyKeys(Variant.POLLER, Variant.RETIRED, Variant.DUAL, Variant.WRITER_ONLY);
    assertThat(written)
        .hasSize(7)
        .allSatisfy(p -> assertThat(p.rows()).isEqualTo(100))
        .allSatisfy(
            p ->
                assertThat(p.latencyMicros())
                    .hasSize(p.variant() == Variant.WRITER_ONLY ? 0 : 100));
    assertThat(result.idle().get(0))
        .containsOnlyKeys(Variant.POLLER, Variant.RELAY, Variant.WRITER_ONLY);

    List<String> withGoal =
        List.of(
            "L1",
            "L1.p99.poller_1s.50rps",
            "L1.p99.poller_100ms.50rps",
            "D1",
            "D1.idle",
            "D1.retired",
            "D1.retired.dead_tuples");
    List<String> reported =
        List.of(
            "L1.p50.poller_1s.50rps",
            "L1.p50.poller_100ms.50rps",
            "D1.idle.statements",
            "D1.idle.wal",
            "D1.idle.server",
            "D1.idle.net",
            "D1.retired.autovacuum",
            "D1.retired.statements",
            "D1.retired.transactions",
            "D1.retired.wal",
            "D1.retired.net",
            "D1.writer",
            "D1.dual",
            "D1.dual.dead_tuples",
            "D1.dual.autovacuum",
            "D1.dual.statements",
            "D1.dual.transactions",
            "D1.dual.wal",
            "D1.dual.net");
    List<String> all = new ArrayList<>(withGoal);
    all.addAll(reported);
    assertThat(measures).extracting(Measure::id).containsExactlyInAnyOrderElementsOf(all);
    assertThat(measures)
        .filteredOn(m -> withGoal.contains(m.id()))
        .allSatisfy(m -> assertThat(m.goal()).startsWith("≤ "))
        .allSatisfy(m -> assertThat(m.met()).isNotNull());
    assertThat(measures)
        .filteredOn(m -> reported.contains(m.id()))
        .allSatisfy(m -> assertThat(m.goal()).isNull())
        .allSatisfy(m -> assertThat(m.met()).isNull());
    assertThat(measures)
        .allSatisfy(m -> assertThat(m.ratio()).isNotNull())
        .allSatisfy(m -> assertThat(m.ratioOf()).isNotBlank())
        .allSatisfy(m -> assertThat(m.unit()).isNotBlank());

    Path file = dir.resolve("results.json");
    Path plot = dir.resolve("latency.png");
    RelayPollerRatios.publish(settings, result, measures, file, plot);

    JsonNode json = new ObjectMapper().readTree(file.toFile());
    List<String> ids = new ArrayList<>();
    json.path("measures").forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids).containsExactlyInAnyOrderElementsOf(all);
    json.path("measures")
        .forEach(
            m ->
                assertThat(m.fieldNames())
                    .toIterable()
                    .contains("value", "baseline", "ratio", "goal", "met"));
    assertThat(json.path("settings").path(RelayPollerRatios.HARNESS).path("rounds").asInt())
        .isEqualTo(1);
    byte[] png = Files.readAllBytes(plot);
    assertThat(png).startsWith(new byte[] {(byte) 0x89, 'P', 'N', 'G'});
    assertThat(png.length).isGreaterThan(5_000);
    String keep = System.getProperty("smoke.plot"); // -Dsmoke.plot=FILE: a copy to look at
    if (keep != null) {
      Files.copy(plot, Path.of(keep), StandardCopyOption.REPLACE_EXISTING);
    }
  }
}

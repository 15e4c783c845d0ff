package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unpoll bench}, shortened: the poller against the event path on servers it starts, the same
 * table as docs/benchmarks.md's L1, and the results file and plot it writes. Its figures mean
 * nothing here (a 2 s window on a busy test machine); that they exist and are whole does.
 */
class BenchIT {
  @TempDir Path dir;

  @Test
  void comparesThePollerWithTheEventPathAndWritesTheResultsAndThePlot() throws Exception {
    Path out = dir.resolve("bench");

    Cli.Result r =
        Cli.run(Map.of(), "bench", "--rate", "50", "--seconds", "2", "--out", out.toString());

    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("| `L1.p99.poller_1s.50rps` |")
        .contains("| `L1.p99.poller_100ms.50rps` |")
        .contains("wrote " + out.resolve("results.json"));
    JsonNode results = new ObjectMapper().readTree(out.resolve("results.json").toFile());
    List<String> ids = new ArrayList<>();
    results.path("measures").forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids).contains("L1", "L1.p99.poller_1s.50rps", "L1.p50.poller_100ms.50rps");
    assertThat(ImageIO.read(out.resolve("latency.png").toFile())).isNotNull();
  }

  @Test
  void refusesTheOptionsOfAnotherDatabaseClearly() {
    Cli.Result r = Cli.run(Map.of(), "bench", "--db", "jdbc:postgresql://db.example/orders");

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err())
        .contains("unpoll bench runs on a PostgreSQL and a Kafka broker it starts itself")
        .contains("--db");
  }
}

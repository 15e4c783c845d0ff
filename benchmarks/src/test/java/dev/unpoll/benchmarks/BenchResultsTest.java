package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.unpoll.benchmarks.BenchResults.Measure;
import dev.unpoll.benchmarks.BenchResults.Ratio;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchResultsTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void createsTheFileWithMachineSettingsAndMeasures() throws Exception {
    Path file = dir.resolve("docs/benchmarks/results.json");

    BenchResults.merge(
        file,
        Map.of("cores", 2),
        "R1",
        Map.of("rows", 1000),
        List.of(
            new Measure(
                "R1",
                700,
                1000.0,
                new Ratio(0.7, 0.65, 0.75),
                "relay ÷ min",
                "≥ 0.6",
                true,
                "rows/s")));

    JsonNode root = JSON.readTree(file.toFile());
    assertThat(root.path("machine").path("cores").asInt()).isEqualTo(2);
    assertThat(root.path("settings").path("R1").path("rows").asInt()).isEqualTo(1000);
    JsonNode r1 = root.path("measures").get(0);
    assertThat(r1.path("id").asText()).isEqualTo("R1");
    assertThat(r1.path("value").asDouble()).isEqualTo(700);
    assertThat(r1.path("baseline").asDouble()).isEqualTo(1000);
    assertThat(r1.path("ratio").path("median").asDouble()).isEqualTo(0.7);
    assertThat(r1.path("ratio").path("min").asDouble()).isEqualTo(0.65);
    assertThat(r1.path("ratio").path("max").asDouble()).isEqualTo(0.75);
    assertThat(r1.path("goal").asText()).isEqualTo("≥ 0.6");
    assertThat(r1.path("met").asBoolean()).isTrue();
    assertThat(r1.path("unit").asText()).isEqualTo("rows/s");
  }

  @Test
  void replacesTheEntryWithTheSameIdAndKeepsTheOthers() throws Exception {
    Path file = dir.resolve("results.json");
    BenchResults.merge(
        file,
        Map.of("cores", 2),
        "L1",
        Map.of("rate", 100),
        List.of(
            new Measure("L1", 10, 500.0, new Ratio(0.02, 0.01, 0.03), "x", "≤ 0.03", true, "ms")));
    BenchResults.merge(
        file,
        Map.of("cores", 2),
        "R1",
        Map.of("rows", 1000),
        List.of(
            new Measure("R1", 500, 1000.0, new Ratio(0.5, 0.4, 0.6), "x", "≥ 0.6", false, "rows/s"),
            new Measure("R1.ceiling.decode", 1000, null, null, null, null, null, "rows/s")));

    BenchResults.merge(
        file,
        Map.of("cores", 4),
        "R1",
        Map.of("rows", 2000),
        List.of(
            new Measure(
                "R1", 800, 1000.0, new Ratio(0.8, 0.7, 0.9), "x", "≥ 0.6", true, "rows/s")));

    JsonNode root = JSON.readTree(file.toFile());
    List<String> ids = new ArrayList<>();
    root.path("measures").forEach(m -> ids.add(m.path("id").asText()));
    assertThat(ids).containsExactly("L1", "R1", "R1.ceiling.decode");
    JsonNode r1 = root.path("measures").get(1);
    assertThat(r1.path("value").asDouble()).isEqualTo(800);
    assertThat(r1.path("met").asBoolean()).isTrue();
    assertThat(root.path("settings").path("R1").path("rows").asInt()).isEqualTo(2000);
    assertThat(root.path("settings").path("L1").path("rate").asInt()).isEqualTo(100);
    assertThat(root.path("machine").path("cores").asInt()).isEqualTo(4);
    JsonNode decode = root.path("measures").get(2);
    assertThat(decode.path("ratio").isNull()).isTrue();
    assertThat(decode.path("met").isNull()).isTrue();
    assertThat(Files.exists(dir.resolve("results.json.tmp"))).isFalse();
  }

  @Test
  void writesNaNAsNull() throws Exception {
    Path file = dir.resolve("results.json");
    BenchResults.merge(
        file,
        Map.of(),
        "R1",
        Map.of(),
        List.of(new Measure("R1", Double.NaN, null, null, null, null, null, "rows/s")));

    assertThat(JSON.readTree(file.toFile()).path("measures").get(0).path("value").isNull())
        .isTrue();
  }

  @Test
  void describesThisMachine() {
    Map<String, Object> machine = BenchResults.machine();

    assertThat(machine).containsKeys("cores", "cpu", "memory_bytes", "java", "os");
    assertThat((Integer) machine.get("cores")).isPositive();
  }

  @Test
  void regeneratesTheTableOfThePageBesideTheFile() throws Exception {
    Path file = dir.resolve("docs/benchmarks/results.json");
    Files.createDirectories(file.getParent());
    Path page = dir.resolve("docs/benchmarks.md");
    Files.writeString(
        page, "# B\n\n" + BenchResults.BEGIN + "\nold table\n" + BenchResults.END + "\n\nafter\n");

    BenchResults.merge(
        file,
        Map.of("cores", 2),
        "M1",
        Map.of(),
        List.of(
            new Measure(
                "M1", 300, 512.0, new Ratio(0.586, 0.586, 0.586), "RSS ÷ 512", "≤ 1.0", true, "MB"),
            new Measure("M1.saturated", 41000, null, null, "rate", null, null, "rows/s")));

    String text = Files.readString(page);
    assertThat(text).doesNotContain("old table").startsWith("# B").endsWith("after\n");
    assertThat(text)
        .contains("| `M1` | 300 MB | 512 | 0.586 (0.586–0.586) | RSS ÷ 512 | ≤ 1.0 | yes |")
        .contains("| `M1.saturated` | 41,000 rows/s |  |  | rate |  |  |");
  }
}

package dev.unpoll.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * docs/benchmarks.md shows what docs/benchmarks/results.json holds, and the file has what issue 13
 * asks of every measure. A hand edit of either, or a harness that wrote a half entry, fails here.
 */
class BenchmarksDocTest {
  private static final Path RESULTS = Path.of("..", "docs", "benchmarks", "results.json");
  private static final Path PAGE = Path.of("..", "docs", "benchmarks.md");

  @Test
  void thePageShowsTheResultsFile() throws Exception {
    JsonNode root = new ObjectMapper().readTree(RESULTS.toFile());
    String page = Files.readString(PAGE);

    assertThat(BenchResults.withTable(page, BenchResults.table(root)))
        .as(
            "the table in docs/benchmarks.md is not the one results.json gives: rerun a harness"
                + " with --publish, or regenerate it with BenchResults")
        .isEqualTo(page);
  }

  @Test
  void everyMeasureHasTheFieldsIssue13AsksFor() throws Exception {
    JsonNode root = new ObjectMapper().readTree(RESULTS.toFile());

    assertThat(root.path("machine").path("cores").asInt()).isPositive();
    List<String> ids = new ArrayList<>();
    for (JsonNode m : root.path("measures")) {
      String id = m.path("id").asText();
      ids.add(id);
      for (String field : List.of("value", "baseline", "ratio", "goal", "met", "unit")) {
        assertThat(m.has(field)).as(id + " has " + field).isTrue();
      }
      if (!m.path("goal").isNull()) {
        assertThat(m.path("met").isBoolean()).as(id + ": a goal and whether it is met").isTrue();
        assertThat(m.path("ratio").path("median").isNumber()).as(id + " ratio").isTrue();
      }
    }
    assertThat(ids).doesNotHaveDuplicates();
    assertThat(ids)
        .as("one entry per measure of issue 13")
        .contains("R1", "M1", "L1", "D1", "O1", "C1");
  }
}

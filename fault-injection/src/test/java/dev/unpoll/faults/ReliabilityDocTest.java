package dev.unpoll.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * docs/reliability.md's figures are generated from docs/reliability/results.json (the full run
 * writes both): the file has the fields issue 12 names for every fault, and the page shows exactly
 * what the file holds.
 */
class ReliabilityDocTest {
  static final List<String> FIELDS =
      List.of(
          "fault",
          "injections",
          "events",
          "lost",
          "duplicate_effects",
          "max_topic_duplicates",
          "recovery_s",
          "seed");

  @Test
  void theResultsFileHasEveryFieldAndThePageShowsIt() throws Exception {
    JsonNode results = new ObjectMapper().readTree(FaultResults.resultsFile().toFile());
    assertThat(results.get("faults")).isNotEmpty();
    Set<String> faults = new HashSet<>();
    for (JsonNode f : results.get("faults")) {
      for (String field : FIELDS) {
        assertThat(f.has(field)).as("%s has %s", f.get("fault"), field).isTrue();
      }
      assertThat(faults.add(f.get("fault").asText())).as("one entry per fault").isTrue();
      assertThat(f.get("lost").asLong()).as("a loss is a defect to fix, not a row").isZero();
      assertThat(f.get("duplicate_effects").asLong()).as("no effect twice").isZero();
    }
    String doc = Files.readString(FaultResults.docFile());
    assertThat(doc)
        .as(
            "docs/reliability.md is generated from results.json: run the full run, or"
                + " FaultResults.render, instead of editing the table")
        .isEqualTo(FaultResults.render(doc, results));
  }

  @Test
  void faultsSortByNumberThenVariant() {
    assertThat(
            List.of("10", "2b", "1", "2a", "12").stream()
                .sorted(java.util.Comparator.comparing(FaultResults::sortKey))
                .toList())
        .containsExactly("1", "2a", "2b", "10", "12");
  }
}

package dev.unpoll.spring.boot;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.testkit.DocSnippets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * docs/spring-boot.md: its properties table says what the generated configuration metadata says
 * (every property, no other, the same defaults), and its snippets are the compiled shop's code
 * ({@link DocSnippets}; run with {@code -Dunpoll.docs.update=true} to rewrite them).
 */
class SpringBootDocsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path PAGE = ROOT.resolve("docs/spring-boot.md");
  private static final Pattern ROW = Pattern.compile("^\\| `(unpoll\\.[a-z.-]+)` \\| ([^|]+) \\|");
  private static final String NONE = "—";

  @Test
  void thePropertiesTableMatchesTheGeneratedMetadata() throws IOException {
    Map<String, String> documented = new LinkedHashMap<>();
    for (String line : Files.readAllLines(PAGE)) {
      Matcher m = ROW.matcher(line);
      if (m.find()) {
        String cell = m.group(2).trim();
        documented.put(m.group(1), cell.equals(NONE) ? NONE : cell.replace("`", ""));
      }
    }
    Map<String, String> generated = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : UnpollPropertiesTest.metadataProperties().entrySet()) {
      JsonNode d = e.getValue().get("defaultValue");
      generated.put(e.getKey(), d == null ? NONE : d.asText());
    }
    assertThat(documented)
        .as("docs/spring-boot.md's table (name -> default) vs. the configuration metadata")
        .containsExactlyInAnyOrderEntriesOf(generated);
  }

  @Test
  void snippetsAreTheCompiledShopsCode() {
    DocSnippets.Report report = DocSnippets.check(PAGE, ROOT);
    assertThat(report.snippets()).as("snippets in docs/spring-boot.md").isEqualTo(3);
    assertThat(report.stale()).as("stale snippets; rerun with -Dunpoll.docs.update=true").isEmpty();
  }
}

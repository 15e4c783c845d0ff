package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** docs/outbox.md quotes OutboxDocSnippetsIT: every tagged region must appear there verbatim. */
class OutboxDocTest {
  private static final Path DOC = Path.of("..", "docs", "outbox.md");
  private static final Path SNIPPETS =
      Path.of("src", "test", "java", "dev", "unpoll", "outbox", "OutboxDocSnippetsIT.java");
  private static final Pattern REGION =
      Pattern.compile("// tag::(\\w+)\\[]\\n(.*?)\\n\\s*// end::\\1\\[]", Pattern.DOTALL);

  @Test
  void everySnippetInTheDocMatchesTheCompiledTest() throws IOException {
    String doc = Files.readString(DOC);
    String source = Files.readString(SNIPPETS);
    Matcher m = REGION.matcher(source);
    List<String> tags = new ArrayList<>();
    while (m.find()) {
      tags.add(m.group(1));
      assertThat(doc).as("docs/outbox.md quotes region " + m.group(1)).contains(dedent(m.group(2)));
    }
    assertThat(tags)
        .containsExactlyInAnyOrder("ddl", "jdbc", "commit", "spring", "jooq", "options");
  }

  @Test
  void theDocShowsTheShippedDdl() throws IOException {
    assertThat(Files.readString(DOC)).contains(Outbox.builder().build().ddl().strip());
  }

  private static String dedent(String block) {
    String[] lines = block.split("\n", -1);
    int indent = Integer.MAX_VALUE;
    for (String line : lines) {
      if (!line.isBlank()) {
        indent = Math.min(indent, line.length() - line.stripLeading().length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < lines.length; i++) {
      out.append(lines[i].isBlank() ? "" : lines[i].substring(indent));
      if (i < lines.length - 1) {
        out.append('\n');
      }
    }
    return out.toString();
  }
}

package dev.unpoll.samples.orders.migrated;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * samples/README.md quotes the compiled sources: each block after {@code <!-- snippet: path#tag
 * -->} must equal the region between {@code tag::tag[]} and {@code end::tag[]} comments ({@code //}
 * or {@code #}) of that file, or the whole file without {@code #tag}. Run with {@code
 * -Dunpoll.docs.update=true} to rewrite the blocks from the sources.
 */
class ReadmeSnippetsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path README = ROOT.resolve("samples/README.md");
  private static final Pattern BLOCK =
      Pattern.compile(
          "<!-- snippet: ([^#\\s]+)(?:#([\\w-]+))? -->\\n```(\\w+)\\n(.*?)```", Pattern.DOTALL);

  @Test
  void readmeSnippetsMatchTheCompiledSources() throws IOException {
    String doc = Files.readString(README, StandardCharsets.UTF_8);
    Matcher m = BLOCK.matcher(doc);
    StringBuilder updated = new StringBuilder();
    List<String> stale = new ArrayList<>();
    int count = 0;
    while (m.find()) {
      count++;
      Path file = ROOT.resolve(m.group(1));
      String expected =
          m.group(2) == null
              ? Files.readString(file, StandardCharsets.UTF_8)
              : region(file, m.group(2));
      if (!expected.equals(m.group(4))) {
        stale.add(m.group(1) + (m.group(2) == null ? "" : "#" + m.group(2)));
      }
      m.appendReplacement(
          updated,
          Matcher.quoteReplacement(
              "<!-- snippet: "
                  + m.group(1)
                  + (m.group(2) == null ? "" : "#" + m.group(2))
                  + " -->\n```"
                  + m.group(3)
                  + "\n"
                  + expected
                  + "```"));
    }
    m.appendTail(updated);
    if (Boolean.getBoolean("unpoll.docs.update")) {
      Files.writeString(README, updated.toString(), StandardCharsets.UTF_8);
      stale.clear();
    }
    assertThat(count).as("snippets in samples/README.md").isGreaterThanOrEqualTo(8);
    assertThat(stale).as("stale snippets; rerun with -Dunpoll.docs.update=true").isEmpty();
  }

  static String region(Path file, String tag) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    int start = -1;
    int end = -1;
    for (int i = 0; i < lines.size(); i++) {
      String l = lines.get(i).trim().replaceFirst("^(//|#)\\s*", "");
      if (l.equals("tag::" + tag + "[]")) {
        start = i + 1;
      } else if (l.equals("end::" + tag + "[]")) {
        end = i;
      }
    }
    assertThat(start).as("tag %s in %s", tag, file).isPositive();
    assertThat(end).as("end of tag %s in %s", tag, file).isGreaterThan(start);
    List<String> body = new ArrayList<>(lines.subList(start, end));
    while (!body.isEmpty() && body.get(body.size() - 1).isBlank()) {
      body.remove(body.size() - 1);
    }
    int indent =
        body.stream()
            .filter(l -> !l.isBlank())
            .mapToInt(l -> l.length() - l.stripLeading().length())
            .min()
            .orElse(0);
    StringBuilder out = new StringBuilder();
    for (String l : body) {
      out.append(l.isBlank() ? "" : l.substring(indent)).append('\n');
    }
    return out.toString();
  }
}

package dev.unpoll.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Keeps code in Markdown docs equal to compiled sources. A block written as
 *
 * <pre>
 * &lt;!-- snippet: path/from/repo/root/File.java#tag --&gt;
 * ```java
 * ...
 * ```
 * </pre>
 *
 * must equal the region between the comments {@code tag::tag[]} and {@code end::tag[]} ({@code //}
 * or {@code #} comments) of that file, dedented; without {@code #tag} it must equal the whole file.
 * With the system property {@code unpoll.docs.update=true}, {@link #check} rewrites the doc from
 * the sources instead of reporting it stale.
 */
public final class DocSnippets {
  /** The system property that rewrites docs from their sources. */
  public static final String UPDATE_PROPERTY = "unpoll.docs.update";

  private static final Pattern BLOCK =
      Pattern.compile(
          "<!-- snippet: ([^#\\s]+)(?:#([\\w-]+))? -->\\n```(\\w+)\\n(.*?)```", Pattern.DOTALL);

  /**
   * What {@link #check} found.
   *
   * @param snippets how many snippet blocks the doc has
   * @param stale the blocks ({@code path#tag}) that differ from their source
   */
  public record Report(int snippets, List<String> stale) {
    public Report {
      stale = List.copyOf(stale);
    }
  }

  private DocSnippets() {}

  /**
   * Compares every snippet block of {@code doc} with its source, paths resolved against {@code
   * root}; rewrites the doc (and reports nothing stale) when {@value #UPDATE_PROPERTY} is true.
   *
   * @throws IllegalStateException when a tagged region is missing from its source
   */
  public static Report check(Path doc, Path root) {
    try {
      String text = Files.readString(doc, StandardCharsets.UTF_8);
      Matcher m = BLOCK.matcher(text);
      StringBuilder updated = new StringBuilder();
      List<String> stale = new ArrayList<>();
      int count = 0;
      while (m.find()) {
        count++;
        Path file = root.resolve(m.group(1));
        String name = m.group(1) + (m.group(2) == null ? "" : "#" + m.group(2));
        String expected =
            m.group(2) == null
                ? Files.readString(file, StandardCharsets.UTF_8)
                : region(file, m.group(2));
        if (!expected.equals(m.group(4))) {
          stale.add(name);
        }
        m.appendReplacement(
            updated,
            Matcher.quoteReplacement(
                "<!-- snippet: " + name + " -->\n```" + m.group(3) + "\n" + expected + "```"));
      }
      m.appendTail(updated);
      if (Boolean.getBoolean(UPDATE_PROPERTY)) {
        Files.writeString(doc, updated.toString(), StandardCharsets.UTF_8);
        stale.clear();
      }
      return new Report(count, stale);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check the snippets of " + doc, e);
    }
  }

  /** The dedented lines between {@code tag::tag[]} and {@code end::tag[]} in {@code file}. */
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
    if (start < 0 || end < start) {
      throw new IllegalStateException(
          "no region tag::" + tag + "[] ... end::" + tag + "[] in " + file);
    }
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

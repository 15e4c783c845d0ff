package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every relative link in the README and docs/ points at a file that exists. */
class DocLinksTest {
  private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");

  @Test
  void relativeLinksResolve() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    List<Path> pages = new ArrayList<>();
    pages.add(root.resolve("README.md"));
    try (Stream<Path> docs = Files.walk(root.resolve("docs"))) {
      docs.filter(p -> p.toString().endsWith(".md")).forEach(pages::add);
    }
    List<String> broken = new ArrayList<>();
    for (Path page : pages) {
      Matcher m = LINK.matcher(Files.readString(page));
      while (m.find()) {
        String target = m.group(1);
        if (target.matches("^[a-z]+:.*") || target.startsWith("#")) {
          continue; // web links and anchors within the page
        }
        String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
        if (!Files.exists(page.getParent().resolve(file).normalize())) {
          broken.add(root.relativize(page) + " -> " + target);
        }
      }
    }
    assertThat(pages).hasSizeGreaterThan(10);
    assertThat(broken).as("links to files that do not exist").isEmpty();
  }
}

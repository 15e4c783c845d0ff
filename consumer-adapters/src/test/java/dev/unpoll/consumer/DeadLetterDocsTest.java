package dev.unpoll.consumer;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.DocSnippets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/dead-letters.md shows code from compiled tests ({@link DocSnippets}). Run with {@code
 * -Dunpoll.docs.update=true} to rewrite the blocks from the sources.
 */
class DeadLetterDocsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void docSnippetsMatchTaggedRegionsOfCompiledTests() {
    DocSnippets.Report report = DocSnippets.check(ROOT.resolve("docs/dead-letters.md"), ROOT);
    assertThat(report.snippets()).as("snippets in docs/dead-letters.md").isEqualTo(1);
    assertThat(report.stale()).as("stale snippets; rerun with -Dunpoll.docs.update=true").isEmpty();
  }
}

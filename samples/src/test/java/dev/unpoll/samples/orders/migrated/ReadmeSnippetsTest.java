package dev.unpoll.samples.orders.migrated;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.DocSnippets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * samples/README.md quotes the compiled sources ({@link DocSnippets}). Run with {@code
 * -Dunpoll.docs.update=true} to rewrite the blocks from the sources.
 */
class ReadmeSnippetsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void readmeSnippetsMatchTheCompiledSources() {
    DocSnippets.Report report = DocSnippets.check(ROOT.resolve("samples/README.md"), ROOT);
    assertThat(report.snippets()).as("snippets in samples/README.md").isGreaterThanOrEqualTo(8);
    assertThat(report.stale()).as("stale snippets; rerun with -Dunpoll.docs.update=true").isEmpty();
  }
}

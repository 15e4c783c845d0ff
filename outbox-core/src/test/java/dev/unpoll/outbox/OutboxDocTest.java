package dev.unpoll.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.testkit.DocSnippets;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/outbox.md shows code from {@code OutboxDocSnippetsIT}, which runs against a real PostgreSQL
 * ({@link DocSnippets}). Run with {@code -Dunpoll.docs.update=true} to rewrite the blocks from the
 * sources.
 */
class OutboxDocTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
  private static final Path DOC = ROOT.resolve("docs/outbox.md");

  @Test
  void everySnippetInTheDocMatchesTheCompiledTest() {
    DocSnippets.Report report = DocSnippets.check(DOC, ROOT);
    assertThat(report.snippets()).as("snippets in docs/outbox.md").isEqualTo(8);
    assertThat(report.stale()).as("stale snippets; rerun with -Dunpoll.docs.update=true").isEmpty();
  }

  @Test
  void theDocShowsTheShippedDdl() throws IOException {
    assertThat(Files.readString(DOC)).contains(Outbox.builder().build().ddl().strip());
  }
}

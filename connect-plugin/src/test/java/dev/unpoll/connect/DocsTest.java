package dev.unpoll.connect;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.relay.ConnectorConfig;
import dev.unpoll.testkit.DocSnippets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/kafka-connect.md shows the worker settings the ITs run with ({@link DocSnippets}); run with
 * {@code -Dunpoll.docs.update=true} to rewrite the blocks from the sources.
 */
class DocsTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  @Test
  void docSnippetsMatchTaggedRegionsOfTheTests() {
    DocSnippets.Report report = DocSnippets.check(ROOT.resolve("docs/kafka-connect.md"), ROOT);
    assertThat(report.snippets()).as("snippets in docs/kafka-connect.md").isGreaterThanOrEqualTo(1);
    assertThat(report.stale()).as("stale snippets; rerun with -Dunpoll.docs.update=true").isEmpty();
  }

  /** The relay names the connector and the transformation by strings: they are these classes. */
  @Test
  void theConnectorConfigNamesThisTransformation() {
    assertThat(ConnectorConfig.TRANSFORM_CLASS).isEqualTo(UnpollEventRouter.class.getName());
    assertThat(ConnectorConfig.CONNECTOR_CLASS).isEqualTo(UnpollPostgresConnector.class.getName());
  }
}

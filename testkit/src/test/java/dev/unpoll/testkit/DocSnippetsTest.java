package dev.unpoll.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DocSnippetsTest {
  @TempDir Path root;

  @Test
  void matchingBlocksPassAndAChangedSourceIsReportedStale() throws Exception {
    Files.writeString(
        root.resolve("A.java"),
        "class A {\n  void f() {\n    // tag::body[]\n    int x = 1;\n    // end::body[]\n  }\n}\n");
    Files.writeString(root.resolve("conf.yaml"), "a: 1\n");
    Path doc = root.resolve("doc.md");
    Files.writeString(
        doc,
        "text\n<!-- snippet: A.java#body -->\n```java\nint x = 1;\n```\n"
            + "<!-- snippet: conf.yaml -->\n```yaml\na: 1\n```\n");
    assertThat(DocSnippets.check(doc, root))
        .isEqualTo(new DocSnippets.Report(2, java.util.List.of()));

    Files.writeString(
        root.resolve("A.java"),
        "class A {\n  void f() {\n    // tag::body[]\n    int x = 2;\n    // end::body[]\n  }\n}\n");
    assertThat(DocSnippets.check(doc, root).stale()).containsExactly("A.java#body");
  }

  @Test
  void aMissingRegionIsAnErrorNamingTheTagAndFile() throws Exception {
    Files.writeString(root.resolve("B.java"), "class B {}\n");
    Path doc = root.resolve("doc.md");
    Files.writeString(doc, "<!-- snippet: B.java#gone -->\n```java\nx\n```\n");
    assertThatThrownBy(() -> DocSnippets.check(doc, root))
        .hasMessageContaining("tag::gone[]")
        .hasMessageContaining("B.java");
  }
}

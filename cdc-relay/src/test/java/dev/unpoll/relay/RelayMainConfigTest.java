package dev.unpoll.relay;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The relay process's answer to an invalid configuration file. */
class RelayMainConfigTest {

  @Test
  void mainExitsWithTwoAndPrintsEveryProblem(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "source:\n  slot: UPPER\nkafka:\n  bootstrap-servers: k:9092\n");
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = RelayMain.run(file, new PrintStream(err, true, StandardCharsets.UTF_8));
    String out = err.toString(StandardCharsets.UTF_8);
    assertThat(code).isEqualTo(RelayMain.EXIT_CONFIG);
    assertThat(out)
        .contains("source.jdbc-url: missing")
        .contains("source.user: missing")
        .contains("source.slot: \"UPPER\"")
        .contains("source.publication: missing");
    assertThat(
            RelayMain.run(
                dir.resolve("absent.yaml"), new PrintStream(err, true, StandardCharsets.UTF_8)))
        .isEqualTo(RelayMain.EXIT_CONFIG);
  }
}

package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** unpoll relay: the relay's own exit codes and messages, through the CLI. */
class RelayCommandIT {
  @TempDir Path dir;

  @Test
  void withoutAConfigFileItIsAUsageError() {
    Cli.Result r = Cli.run(Map.of(), "relay");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("relay needs --config");
  }

  @Test
  void aBadConfigFileExitsTwoWithEveryProblemListed() throws Exception {
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: not-a-url
          user: relay
          password: ${UNPOLL_TEST_UNSET_PASSWORD}
          slot: Bad-Slot
          publication: unpoll
        kafka:
          bootstrap-servers: localhost:9092
        tables:
          - table: public.orders
        """);
    Cli.Result r = Cli.run(Map.of(), "relay", "--config", config.toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err())
        .contains("source.jdbc-url")
        .contains("source.slot")
        .contains("tables[0].topic")
        .contains("UNPOLL_TEST_UNSET_PASSWORD")
        .doesNotContain("Exception");
  }
}

package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code unpoll status --connect-url}: the connectors' states come from Kafka Connect's REST API
 * (ConnectWorkerIT reads a real worker's); here, what the command says when it cannot ask.
 */
class StatusConnectUrlTest {

  @Test
  void anUnreachableConnectIsAFailureThatNamesTheUrl() {
    Cli.Result r = Cli.run(Map.of(), "status", "--connect-url", "http://127.0.0.1:1");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err())
        .contains("cannot reach Kafka Connect at http://127.0.0.1:1")
        .contains("check --connect-url");
  }

  @Test
  void connectUrlWithWatchIsAUsageError() {
    Cli.Result r = Cli.run(Map.of(), "status", "--connect-url", "http://127.0.0.1:1", "--watch");
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("--connect-url is shown once, not with --watch");
  }
}

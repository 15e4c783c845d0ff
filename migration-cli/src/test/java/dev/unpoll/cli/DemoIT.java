package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main command, shortened: the whole migration on servers the demo starts itself,
 * ending with every row handled exactly once, by both paths.
 */
class DemoIT {
  @TempDir Path dir;

  @Test
  void migratesTheLegacyTableEndToEndWithEveryRowHandledExactlyOnce() throws Exception {
    Cli.Result r =
        Cli.run(Map.of(), "demo", "--json", "--phase-time", "3s", "--dir", dir.toString());

    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode s = r.json();
    assertThat(s.get("ok").asBoolean()).isTrue();
    assertThat(s.get("missing").asLong()).isZero();
    assertThat(s.get("doubleHandled").asLong()).isZero();
    assertThat(s.get("produced").asLong()).isGreaterThan(100);
    assertThat(s.get("handledByPoller").asLong())
        .as("the poller worked before cutover")
        .isPositive();
    assertThat(s.get("handledByConsumer").asLong()).as("the consumer took over").isPositive();
    assertThat(s.get("handledByPoller").asLong() + s.get("handledByConsumer").asLong())
        .isEqualTo(s.get("produced").asLong());
    assertThat(s.get("eventsPublished").asLong()).isPositive();
    assertThat(s.get("verifyOk").asBoolean()).isTrue();
    // --json prints one document and nothing else on stdout
    assertThat(r.out().strip()).startsWith("{").endsWith("}");
    assertThat(Files.readString(dir.resolve("unpoll.yaml")))
        .contains("table: shop.order_integration")
        .contains("value: row")
        .contains("password: ${UNPOLL_DEMO_DB_PASSWORD}");
  }

  @Test
  void rejectsARateItCannotMeanWithAUsageError() {
    Cli.Result r = Cli.run(Map.of(), "demo", "--rate", "0");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--rate must be between 1 and 1000");
  }
}

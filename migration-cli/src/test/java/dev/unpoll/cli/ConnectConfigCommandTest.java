package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.ConnectorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unpoll connect-config}: the connector JSON from the relay's configuration (no server),
 * never the password; docs/kafka-connect.md shows exactly what it prints for the file it shows.
 */
class ConnectConfigCommandTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** The configuration docs/kafka-connect.md shows. */
  static final String DOC_CONFIG =
      """
      source:
        jdbc-url: jdbc:postgresql://db.internal:5432/orders
        user: unpoll_relay
        password: ${UNPOLL_DB_PASSWORD}
        slot: unpoll_orders
        publication: unpoll_orders
      kafka:
        bootstrap-servers: kafka-1.internal:9092
      outbox:
        enabled: true
        table: public.unpoll_outbox
      tables:
        - table: public.order_integration
          topic: orders.integration
          bookkeeping-columns: [status, processed_at]
          status: {column: status, pending: [NEW], done: [DONE]}
          backlog: true
        - table: public.invoice_queue
          topic: invoices.queue
      """;

  static final Map<String, String> ENV = Map.of("UNPOLL_DB_PASSWORD", "s3cret-db");

  @TempDir Path dir;

  @Test
  void docsShowWhatTheCommandPrintsForTheirExampleConfiguration() throws Exception {
    Cli.Result r = run("--table", "public.order_integration", "--name", "unpoll-orders");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).doesNotContain("s3cret").contains("${env:UNPOLL_DB_PASSWORD}");
    // what ConnectGoldenIT and ConnectWorkerIT PUT: ConnectorConfig.json of ConnectorConfig.of
    UnpollConfig config = UnpollConfig.parse(DOC_CONFIG, ENV);
    UnpollConfig one =
        new UnpollConfig(
            config.source(),
            config.kafka(),
            config.offsets(),
            config.outbox(),
            config.tables().subList(0, 1),
            config.http(),
            config.ha(),
            config.monitoring());
    String mapping =
        ConnectorConfig.mappingYaml(
            DOC_CONFIG, Optional.of(TableName.parse("public.order_integration")));
    assertThat(r.out())
        .isEqualTo(
            ConnectorConfig.json(ConnectorConfig.of(one, mapping, "unpoll-orders"))
                + System.lineSeparator());
    String doc = Files.readString(ROOT.resolve("docs/kafka-connect.md"));
    assertThat(doc)
        .as("docs/kafka-connect.md shows the example configuration")
        .contains(DOC_CONFIG);
    assertThat(doc).as("docs/kafka-connect.md shows what connect-config prints").contains(r.out());
  }

  @Test
  void printsTheRelaysSlotPublicationHeartbeatAndBacklogWithTheMapping() throws Exception {
    Cli.Result r = run();
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode c = r.json();
    assertThat(c.path("name").asText()).isEqualTo("unpoll-unpoll_orders");
    assertThat(c.path("connector.class").asText())
        .isEqualTo("dev.unpoll.connect.UnpollPostgresConnector");
    assertThat(c.path("slot.name").asText()).isEqualTo("unpoll_orders");
    assertThat(c.path("publication.name").asText()).isEqualTo("unpoll_orders");
    assertThat(c.path("publication.autocreate.mode").asText()).isEqualTo("disabled");
    assertThat(c.path("heartbeat.action.query").asText()).contains("unpoll_relay_heartbeat");
    assertThat(c.path("snapshot.mode").asText()).isEqualTo("initial");
    assertThat(
            c.path("snapshot.select.statement.overrides.\"public\".\"order_integration\"").asText())
        .contains("\"status\"::text IN ('NEW')");
    assertThat(c.path("errors.tolerance").asText()).isEqualTo("none");
    assertThat(c.path("transforms.unpoll.type").asText())
        .isEqualTo("dev.unpoll.connect.UnpollEventRouter");
    assertThat(c.path("transforms.unpoll.mapping").asText())
        .contains("public.order_integration", "public.invoice_queue", "outbox:");
    assertThat(c.has("offset.storage")).as("the worker owns the offsets").isFalse();
    assertThat(r.out()).doesNotContain("s3cret");
  }

  @Test
  void tableNarrowsTheMappingAndAnUnmappedTableIsAUsageError() throws Exception {
    Cli.Result one = run("--table", "public.invoice_queue");
    assertThat(one.exit()).as(one.toString()).isZero();
    assertThat(one.json().path("transforms.unpoll.mapping").asText())
        .contains("public.invoice_queue")
        .doesNotContain("order_integration");
    assertThat(one.json().path("snapshot.mode").asText()).isEqualTo("no_data");
    Cli.Result none = run("--table", "public.nope");
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("tables: public.nope is not mapped in this configuration");
  }

  @Test
  void helpDoesNotExpandThePasswordReference() {
    Cli.Result r = Cli.run(ENV, "connect-config", "--help");
    assertThat(r.out()).contains("${env:UNPOLL_DB_PASSWORD}").doesNotContain("s3cret");
  }

  private Cli.Result run(String... extra) throws Exception {
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, DOC_CONFIG);
    String[] args = new String[3 + extra.length];
    args[0] = "connect-config";
    args[1] = "--config";
    args[2] = config.toString();
    System.arraycopy(extra, 0, args, 3, extra.length);
    return Cli.run(ENV, args);
  }
}

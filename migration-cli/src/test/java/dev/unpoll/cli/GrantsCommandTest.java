package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code unpoll grants}: pure text from the configuration (no server), every name quoted, never the
 * password; docs/security.md shows exactly what it prints for the file it shows.
 */
class GrantsCommandTest {
  private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

  /** The configuration docs/security.md shows. */
  static final String DOC_CONFIG =
      """
      source:
        jdbc-url: jdbc:postgresql://db.internal:5432/orders?sslmode=verify-full&sslrootcert=/etc/unpoll/root.crt
        user: unpoll_relay
        password: ${UNPOLL_DB_PASSWORD}
        slot: unpoll_orders
        publication: unpoll_orders
      kafka:
        bootstrap-servers: kafka-1.internal:9093
        properties:
          security.protocol: SASL_SSL
          sasl.mechanism: SCRAM-SHA-512
          sasl.jaas.config: ${KAFKA_JAAS}
          ssl.truststore.location: /etc/unpoll/kafka-truststore.p12
          ssl.truststore.type: PKCS12
      outbox:
        enabled: true
        table: public.unpoll_outbox
      tables:
        - table: public.order_integration
          topic: orders.integration
          status: {column: status, pending: [NEW], done: [DONE]}
          backlog: true
      """;

  static final Map<String, String> ENV =
      Map.of("UNPOLL_DB_PASSWORD", "s3cret-db", "KAFKA_JAAS", "jaas-s3cret");

  @TempDir Path dir;

  @Test
  void docsSecurityShowsWhatTheCommandPrintsForItsExampleConfiguration() throws Exception {
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, DOC_CONFIG);
    Cli.Result r = Cli.run(ENV, "grants", "--config", config.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).doesNotContain("s3cret").contains("CREATE ROLE \"unpoll_relay\"");
    String doc = Files.readString(ROOT.resolve("docs/security.md"));
    assertThat(doc).as("docs/security.md shows the example configuration").contains(DOC_CONFIG);
    assertThat(doc).as("docs/security.md shows what unpoll grants prints").contains(r.out());
  }

  @Test
  void docsSecurityShowsWhatTheOperatorsGrantsPrintForItsExampleConfiguration() throws Exception {
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, DOC_CONFIG);
    Cli.Result r = Cli.run(ENV, "grants", "--operator", "--config", config.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .doesNotContain("s3cret")
        .contains("CREATE ROLE \"unpoll_operator\" LOGIN REPLICATION")
        .contains("to_regclass('\"public\".\"order_integration\"')")
        .contains("GRANT \"unpoll_relay\" TO \"unpoll_operator\"");
    String doc = Files.readString(ROOT.resolve("docs/security.md"));
    assertThat(doc)
        .as("docs/security.md shows what unpoll grants --operator prints")
        .contains("```sql\n" + r.out() + "```");

    Cli.Result json =
        Cli.run(
            ENV,
            "grants",
            "--operator",
            "--config",
            config.toString(),
            "--table",
            "sales.refunds",
            "--role",
            "ops",
            "--json");
    assertThat(json.exit()).as(json.toString()).isZero();
    assertThat(json.json().get("role").asText()).isEqualTo("ops");
    StringBuilder sql = new StringBuilder();
    json.json().get("statements").forEach(n -> sql.append(n.asText()).append('\n'));
    assertThat(sql.toString())
        .contains("to_regclass('\"public\".\"order_integration\"')")
        .contains("to_regclass('\"sales\".\"refunds\"')")
        .contains("GRANT USAGE ON SCHEMA \"sales\" TO \"ops\"");
  }

  @Test
  void theOperatorsGrantsNeedATableAndTheTableOptionIsOnlyForThem() throws Exception {
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(config, DOC_CONFIG.substring(0, DOC_CONFIG.indexOf("outbox:")));
    Cli.Result none = Cli.run(ENV, "grants", "--operator", "--config", config.toString());
    assertThat(none.exit()).as(none.toString()).isEqualTo(2);
    assertThat(none.err()).contains("no table: pass --table <schema.table>");

    Cli.Result relay =
        Cli.run(ENV, "grants", "--config", config.toString(), "--table", "public.orders");
    assertThat(relay.exit()).as(relay.toString()).isEqualTo(2);
    assertThat(relay.err()).contains("--table is for --operator");
  }

  @Test
  void hostileNamesAreQuotedAndTheRoleNameIsChecked() throws Exception {
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: jdbc:postgresql://localhost:5432/orders
          user: relay
          password: ${UNPOLL_DB_PASSWORD}
          slot: unpoll_orders
          publication: unpoll_orders
        kafka:
          bootstrap-servers: localhost:9092
        tables:
          - table: '"Sales"."Order""; DROP TABLE x; --"'
            topic: orders
        """);
    Cli.Result r =
        Cli.run(
            ENV,
            "grants",
            "--config",
            config.toString(),
            "--role",
            "r'; DROP ROLE x; --$$",
            "--json");
    assertThat(r.exit()).as(r.toString()).isZero();
    StringBuilder sql = new StringBuilder();
    r.json().get("statements").forEach(n -> sql.append(n.asText()).append('\n'));
    assertThat(sql.toString())
        .contains("GRANT SELECT ON TABLE \"Sales\".\"Order\"\"; DROP TABLE x; --\" TO")
        .contains("rolname = 'r''; DROP ROLE x; --$$'")
        .contains("CREATE ROLE \"r'; DROP ROLE x; --$$\" LOGIN REPLICATION")
        .doesNotContain("s3cret");

    Cli.Result op =
        Cli.run(
            ENV,
            "grants",
            "--operator",
            "--config",
            config.toString(),
            "--role",
            "r'; DROP ROLE x; --$$",
            "--json");
    assertThat(op.exit()).as(op.toString()).isZero();
    StringBuilder opSql = new StringBuilder();
    op.json().get("statements").forEach(n -> opSql.append(n.asText()).append('\n'));
    assertThat(opSql.toString())
        .contains("to_regclass('\"Sales\".\"Order\"\"; DROP TABLE x; --\"')")
        .contains("DROP TABLE x; --\"' || ' does not exist")
        .contains("CREATE ROLE \"r'; DROP ROLE x; --$$\" LOGIN REPLICATION")
        .contains("rolname = 'r''; DROP ROLE x; --$$'")
        .doesNotContain("s3cret");

    Cli.Result bad = Cli.run(ENV, "grants", "--config", config.toString(), "--role", "");
    assertThat(bad.exit()).as(bad.toString()).isEqualTo(2);
    assertThat(bad.err()).contains("--role");

    Cli.Result none = Cli.run(ENV, "grants");
    assertThat(none.exit()).as(none.toString()).isEqualTo(2);
    assertThat(none.err()).contains("--config");
  }
}

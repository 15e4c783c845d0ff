package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.unpoll.consumer.DualRunClaim;
import dev.unpoll.consumer.InboundEvent;
import dev.unpoll.contract.Headers;
import dev.unpoll.contract.TableName;
import dev.unpoll.contract.config.TableMapping;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.relay.Relay;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.TopicReader;
import dev.unpoll.testkit.UnpollStackExtension;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 11: a name PostgreSQL allows only quoted (a space, a double quote, mixed case, non-ASCII)
 * goes through every step a user takes, driven by the commands and the one mapping in unpoll.yaml:
 * analyze, plan, capture with its backlog, the relay, the consumer's claim built from the mapping,
 * and verify.
 */
@ExtendWith(UnpollStackExtension.class)
class OddNameMigrationIT {
  private static final String SCHEMA = "Fin Ops";
  private static final String TABLE = "Settlement \"Batch\" ü";
  private static final TableName NAME = new TableName(SCHEMA, TABLE);

  @Test
  void analyzePlanCaptureRelayClaimAndVerifyAQuotedName(
      TestPostgres server, TestKafka kafka, @TempDir Path dir) throws Exception {
    TestPostgres db = server.createDatabase("cli_odd_name_it");
    String quoted = NAME.quoted();
    Fixtures.sql(
        db,
        "CREATE SCHEMA \"Fin Ops\"",
        "CREATE TABLE "
            + quoted
            + " (\"Batch Id\" bigint PRIMARY KEY, amount numeric(10,2) NOT NULL,"
            + " status text NOT NULL DEFAULT 'NEW' CHECK (status IN ('NEW', 'DONE')),"
            + " created_at timestamptz NOT NULL DEFAULT now(), processed_at timestamptz)",
        "INSERT INTO "
            + quoted
            + " (\"Batch Id\", amount) SELECT g, g * 1.5 FROM"
            + " generate_series(1, 5) g",
        "INSERT INTO "
            + quoted
            + " (\"Batch Id\", amount, status, processed_at) SELECT g, g,"
            + " 'DONE', now() FROM generate_series(6, 8) g",
        // the consumer's tables (what IdempotentConsumer creates), read by verify
        "CREATE TABLE unpoll_processed (consumer_group text NOT NULL, idempotency_key text NOT"
            + " NULL, processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY"
            + " (consumer_group, idempotency_key))");
    String topic = kafka.createUniqueTopic("fin-settlement", 1);
    Path config = dir.resolve("unpoll.yaml");
    Files.writeString(
        config,
        """
        source:
          jdbc-url: %s
          user: %s
          password: ${PGPASSWORD}
          slot: odd_name_it
          publication: odd_name_it
          heartbeat-interval: 1s
        kafka:
          bootstrap-servers: %s
        http:
          port: 0
        """
            .formatted(db.jdbcUrl(), db.user(), kafka.bootstrapServers()));
    Map<String, String> env = Map.of("PGPASSWORD", db.password());
    String display = NAME.display();

    Cli.Result analyze = Cli.run(env, "analyze", "--config", config.toString(), "--table", display);
    assertThat(analyze.exit()).as(analyze.toString()).isZero();
    assertThat(analyze.out()).contains("status");

    Cli.Result plan =
        Cli.run(
            env,
            "plan",
            "--config",
            config.toString(),
            "--table",
            display,
            "--topic",
            topic,
            "--out",
            config.toString());
    assertThat(plan.exit()).as(plan.toString()).isZero();
    // the file plan wrote is one the relay accepts, and maps the table with its backlog
    TableMapping mapping = UnpollConfig.loadMapping(config, display, env);
    assertThat(mapping.table()).isEqualTo(NAME);
    assertThat(mapping.key()).containsExactly("Batch Id");
    assertThat(mapping.backlog()).isTrue();
    assertThat(mapping.status().orElseThrow().pending()).containsExactly("NEW");

    Cli.Result capture = Cli.run(env, "capture", "--config", config.toString(), "--table", display);
    assertThat(capture.exit()).as(capture.toString()).isZero();

    List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    try (Relay relay = Relay.builder().config(UnpollConfig.load(config, env)).build();
        TopicReader reader = new TopicReader(kafka, topic)) {
      relay.start();
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(relay::isStreaming);
      Fixtures.sql(
          db, "INSERT INTO " + quoted + " (\"Batch Id\", amount) VALUES (9, 9.99), (10, 10)");
      // the 5 pending rows (backlog) and the 2 written after capture
      Awaitility.await()
          .atMost(Duration.ofSeconds(60))
          .until(
              () -> {
                records.addAll(reader.poll());
                return records.size() >= 7;
              });
    }
    for (ConsumerRecord<byte[], byte[]> r : records) {
      String source =
          new String(r.headers().lastHeader(Headers.SOURCE).value(), StandardCharsets.UTF_8);
      URI uri = URI.create(source); // throws on anything that is not a valid URI reference
      assertThat(uri.getRawPath()).doesNotContain(" ", "\"").contains("Fin%20Ops");
      assertThat(new String(r.key(), StandardCharsets.UTF_8)).matches("\\d+");
    }

    // the consumer's claim, from the same mapping: table, key column and status values once
    DualRunClaim claim = DualRunClaim.from(mapping).processedAtColumn("processed_at").build();
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      for (ConsumerRecord<byte[], byte[]> r : records) {
        InboundEvent e = InboundEvent.of(r);
        assertThat(claim.claim(c, e)).isEqualTo(DualRunClaim.Result.CLAIMED);
        try (var ps =
            c.prepareStatement(
                "INSERT INTO unpoll_processed (consumer_group, idempotency_key) VALUES (?, ?)")) {
          ps.setString(1, "fin");
          ps.setString(2, e.header(Headers.ID).orElseThrow());
          ps.executeUpdate();
        }
      }
      c.commit();
    }

    Cli.Result verify =
        Cli.run(
            env,
            "verify",
            "--config",
            config.toString(),
            "--table",
            display,
            "--group",
            "fin",
            "--settle",
            "0s",
            "--json");
    assertThat(verify.exit()).as(verify.toString()).isZero();
    assertThat(verify.json().at("/events/missing").asInt()).isZero();
    // the window holds the 2 rows written after capture; the topic also the 5 of the backlog
    assertThat(verify.json().get("rows").asLong()).as(verify.out()).isEqualTo(2);
    assertThat(verify.json().at("/events/inTopic").asLong()).isEqualTo(7);
    assertThat(verify.json().at("/handling/consumerHandled").asLong()).isEqualTo(2);
    assertThat(verify.json().at("/handling/doubleHandled").asLong()).isZero();
    assertThat(verify.json().get("ok").asBoolean()).isTrue();
    // every row is done: the 3 the poller had handled, and the 7 the claims took
    assertThat(Fixtures.number(db, "SELECT count(*) FROM " + quoted + " WHERE status = 'DONE'"))
        .isEqualTo(10);
  }
}

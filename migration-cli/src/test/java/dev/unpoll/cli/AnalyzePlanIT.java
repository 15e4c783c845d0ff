package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.unpoll.contract.config.UnpollConfig;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(UnpollStackExtension.class)
class AnalyzePlanIT {
  static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  static TestPostgres db;

  @BeforeAll
  static void database(TestPostgres server) {
    db = server.createDatabase("cli_analyze_it");
    Fixtures.integrationTable(db, "order_integration");
    List<Long> ids = Fixtures.insert(db, "order_integration", 5);
    Fixtures.pollerHandles(db, "order_integration", ids.subList(0, 3));
    Fixtures.sql(
        db,
        "CREATE TYPE job_state AS ENUM ('queued', 'running', 'finished')",
        "CREATE SCHEMA sales",
        "CREATE TABLE sales.jobs (tenant text, job_no int, state job_state NOT NULL DEFAULT"
            + " 'queued', body text, enqueued_at timestamptz DEFAULT now(), attempts int,"
            + " PRIMARY KEY (tenant, job_no))",
        "INSERT INTO sales.jobs (tenant, job_no) VALUES ('EU', 1), ('US', 2)",
        "CREATE TABLE legacy_nokey (order_id int, status text, payload json)",
        "CREATE TABLE empty_queue (id int PRIMARY KEY, status varchar(10) NOT NULL"
            + " CHECK (status IN ('NEW', 'IN''PROGRESS', 'SENT', 'FAILED')),"
            + " created_at timestamptz DEFAULT now())");
  }

  @Test
  void infersTheRolesOfAnIntegrationTableAndProposesAMapping() {
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "order_integration", "--json");
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = r.json();
    assertThat(j.get("rows").asLong()).isEqualTo(5);
    assertThat(j.get("rowsExact").asBoolean()).isTrue();
    assertThat(j.get("primaryKey").toString()).isEqualTo("[\"id\"]");
    assertThat(j.at("/activity/inserts").asLong()).isGreaterThanOrEqualTo(0);
    assertThat(j.at("/roles/status/column").asText()).isEqualTo("status");
    assertThat(j.at("/roles/status/pending").toString()).isEqualTo("[\"NEW\"]");
    assertThat(j.at("/roles/status/done").toString()).isEqualTo("[\"DONE\"]");
    assertThat(j.at("/roles/status/counts/DONE").asInt()).isEqualTo(3);
    assertThat(j.at("/roles/payload").asText()).isEqualTo("payload");
    assertThat(j.at("/roles/bookkeeping").toString())
        .isEqualTo("[\"status\",\"processed_at\",\"retry_count\"]");
    assertThat(j.at("/roles/created").asText()).isEqualTo("created_at");
    assertThat(j.get("verdict").asText()).isEqualTo("ready");
    // the row, not the bare payload: the dual-run handler reads the poller's columns
    assertThat(j.at("/mapping/value").asText()).isEqualTo("row");
    assertThat(j.at("/mapping/payload-column").asText()).isEqualTo("payload");
    assertThat(j.get("mappingYaml").asText())
        .contains("- table: public.order_integration", "topic: public.order_integration");
  }

  @Test
  void handlesCompositeKeysEnumsAndTextOutput() {
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "sales.jobs");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out())
        .contains("primary key: tenant, job_no", "status column state", "pending [queued]")
        .contains("done [finished]", "in-progress [running]", "bookkeeping")
        .contains("key: [tenant, job_no]", "value: row");
  }

  @Test
  void aTableWithoutPrimaryKeyGetsTheExplanationAndTheOptions() {
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "legacy_nokey", "--json");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.json().get("verdict").asText()).isEqualTo("not-ready");
    assertThat(r.json().at("/notes/0").asText())
        .contains("no primary key", "add a primary key", "REPLICA IDENTITY FULL");
    assertThat(r.json().get("mapping").isNull()).isTrue();
  }

  /**
   * Issue 16: a user who gave the command every value it needs gets a file that runs: plan into a
   * file that does not exist writes source and kafka from the options (the password as ${VAR},
   * never the secret), the relay accepts it, and capture runs from it alone.
   */
  @Test
  void planIntoANewFileWritesOneTheRelayAndCaptureRunFrom(TestKafka kafka, @TempDir Path dir)
      throws Exception {
    Fixtures.integrationTable(db, "plan_new_file_q");
    Fixtures.insert(db, "plan_new_file_q", 2);
    Path file = dir.resolve("unpoll.yaml");
    Cli.Result r =
        Cli.run(db, kafka, "plan", "--table", "plan_new_file_q", "--out", file.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("wrote " + file);
    String text = Files.readString(file);
    assertThat(text)
        .contains("password: ${PGPASSWORD}", "slot: unpoll_cli_analyze_it")
        .doesNotContain(db.password());
    // the relay's own reader, strictly: nothing to edit by hand
    UnpollConfig config = UnpollConfig.load(file, Map.of("PGPASSWORD", db.password()));
    assertThat(config.source().jdbcUrl()).isEqualTo(db.jdbcUrl());
    assertThat(config.kafka().bootstrapServers()).isEqualTo(kafka.bootstrapServers());
    assertThat(config.tables())
        .extracting(m -> m.table().display())
        .contains("public.plan_new_file_q");

    Map<String, String> env = Map.of("PGPASSWORD", db.password());
    Cli.Result capture =
        Cli.run(env, "capture", "--config", file.toString(), "--table", "plan_new_file_q");
    assertThat(capture.exit()).as(capture.toString()).isZero();
    Cli.Result rollback =
        Cli.run(env, "rollback", "--config", file.toString(), "--table", "plan_new_file_q");
    assertThat(rollback.exit()).as(rollback.toString()).isZero();
  }

  @Test
  void planWritesTheMappingIntoTheFileAndUpdatesItInPlace(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("unpoll.yaml");
    Files.writeString(
        file, "# keep me\nsource:\n  slot: s1\ntables:\n  - table: sales.jobs\n    topic: jobs\n");
    Cli.Result r =
        Cli.run(
            db,
            null,
            "plan",
            "--table",
            "order_integration",
            "--out",
            file.toString(),
            "--topic",
            "orders.v1");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("added the mapping of public.order_integration");
    Cli.Result again =
        Cli.run(
            db,
            null,
            "plan",
            "--table",
            "order_integration",
            "--out",
            file.toString(),
            "--topic",
            "orders.v2",
            "--json");
    assertThat(again.exit()).isZero();
    assertThat(again.json().get("replaced").asBoolean()).isTrue();
    String text = Files.readString(file);
    assertThat(text).startsWith("# keep me\n").doesNotContain("orders.v1");
    JsonNode tree = YAML.readTree(text);
    assertThat(tree.at("/source/slot").asText()).isEqualTo("s1");
    assertThat(tree.get("tables").size()).isEqualTo(2);
    assertThat(tree.at("/tables/1/topic").asText()).isEqualTo("orders.v2");
    assertThat(tree.at("/tables/1/status/done/0").asText()).isEqualTo("DONE");
    assertThat(tree.at("/tables/1/backlog").asBoolean()).isTrue();
  }

  @Test
  void planRefusesATableThatIsNotReady(@TempDir Path dir) {
    Path file = dir.resolve("unpoll.yaml");
    Cli.Result r = Cli.run(db, null, "plan", "--table", "legacy_nokey", "--out", file.toString());
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("is not ready", "no primary key");
    assertThat(file).doesNotExist();
  }

  @Test
  void statusValuesOfAnEmptyTableComeFromItsCheckConstraint() {
    Cli.Result r = Cli.run(db, null, "analyze", "--table", "empty_queue", "--json");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.json().get("rows").asLong()).isZero();
    assertThat(r.json().at("/roles/status/pending").toString()).isEqualTo("[\"NEW\"]");
    assertThat(r.json().at("/roles/status/done").toString()).isEqualTo("[\"SENT\"]");
    // neither pending nor done: states the poller has not finished, never "won"
    assertThat(r.json().at("/roles/status/inProgress").toString()).isEqualTo("[\"IN'PROGRESS\"]");
    assertThat(r.json().at("/roles/status/failed").toString()).isEqualTo("[\"FAILED\"]");
    assertThat(r.json().at("/mapping/status/in-progress").toString())
        .isEqualTo("[\"IN'PROGRESS\"]");
    assertThat(r.json().at("/mapping/status/failed").toString()).isEqualTo("[\"FAILED\"]");
    assertThat(r.json().get("verdict").asText()).isEqualTo("ready");
  }

  @Test
  void planRejectsATopicNameKafkaWouldReject(@TempDir Path dir) {
    Path file = dir.resolve("unpoll.yaml");
    Cli.Result r =
        Cli.run(
            db,
            null,
            "plan",
            "--table",
            "order_integration",
            "--out",
            file.toString(),
            "--topic",
            "orders\nsource: {jdbc-url: evil}");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("not a valid Kafka topic name");
    assertThat(file).doesNotExist();
  }
}

package dev.unpoll.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.unpoll.contract.TableName;
import dev.unpoll.migration.Phase;
import dev.unpoll.migration.Reconciliation;
import dev.unpoll.migration.Transition;
import dev.unpoll.migration.TransitionOptions;
import dev.unpoll.migration.engine.Migrations;
import dev.unpoll.testkit.TestKafka;
import dev.unpoll.testkit.TestPostgres;
import dev.unpoll.testkit.UnpollStackExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The per-table phase machine through the real commands, with gates that refuse. */
@ExtendWith(UnpollStackExtension.class)
class PhaseIT {
  static final String GROUP = "billing";
  static TestPostgres db;
  static TestKafka kafka;

  @TempDir Path dir;

  @BeforeAll
  static void database(TestPostgres server, TestKafka k) {
    db = server.createDatabase("cli_phase_it");
    kafka = k;
    Fixtures.consumerTables(db);
  }

  @AfterAll
  static void dropSlots() {
    Fixtures.sql(
        db,
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
            + " WHERE database = 'cli_phase_it' AND NOT active");
  }

  /** A config file with its own slot and publication, and the table planned into it. */
  private Path planned(String table, String topic) throws Exception {
    Path file = configured(table, "");
    Cli.Result plan = cli(file, "plan", "--table", table, "--topic", topic);
    assertThat(plan.exit()).as(plan.toString()).isZero();
    return file;
  }

  /** The relay's file with source and kafka for {@code table}, then {@code rest} as written. */
  private Path configured(String table, String rest) throws Exception {
    Path file = dir.resolve("unpoll.yaml");
    Files.writeString(
        file,
        "# the relay's file\n"
            + "source:\n"
            + "  jdbc-url: "
            + db.jdbcUrl()
            + "\n"
            + "  user: "
            + db.user()
            + "\n"
            + "  password: ${DB_PASSWORD}\n"
            + "  slot: slot_"
            + table
            + "\n"
            + "  publication: pub_"
            + table
            + "\n"
            + "kafka:\n"
            + "  bootstrap-servers: "
            + kafka.bootstrapServers()
            + "\n"
            + rest);
    return file;
  }

  private static Cli.Result cli(Path config, String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--config", config.toString()));
    return Cli.run(Map.of("DB_PASSWORD", db.password()), all.toArray(String[]::new));
  }

  private static String phase(String table) {
    if (Fixtures.number(
            db,
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'unpoll' AND tablename = 'migration'")
        == 0) {
      return null;
    }
    return Fixtures.text(
        db, "SELECT phase FROM unpoll.migration WHERE table_name = 'public." + table + "'");
  }

  @Test
  void walksATableThroughEveryPhaseWithGatesThatRefuseWhenFalse() throws Exception {
    String table = "walk_queue";
    String raw = "public." + table;
    String topic = kafka.createUniqueTopic("walk", 3);
    Fixtures.integrationTable(db, table);
    List<Long> old = Fixtures.insert(db, table, 2); // before capture: outside every window
    Fixtures.pollerHandles(db, table, old);
    Path config = planned(table, topic);

    Cli.Result capture = cli(config, "capture", "--table", table, "--json");
    assertThat(capture.exit()).as(capture.toString()).isZero();
    JsonNode cj = capture.json();
    assertThat(cj.get("to").asText()).isEqualTo("capturing");
    assertThat(cj.get("gates")).allSatisfy(g -> assertThat(g.get("passed").asBoolean()).isTrue());
    assertThat(phase(table)).isEqualTo("capturing");
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pub_"
                    + table
                    + "' AND tablename IN ('"
                    + table
                    + "', 'unpoll_relay_heartbeat')"))
        .isEqualTo(2);
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'slot_" + table + "'"))
        .isEqualTo(1);

    // The relay publishes two of three rows: shadow must refuse and name the missing key.
    List<Long> rows = Fixtures.insert(db, table, 3);
    Fixtures.publish(kafka, topic, raw, rows.subList(0, 2));
    Cli.Result refused =
        cli(config, "shadow", "--table", table, "--group", GROUP, "--settle", "0s");
    assertThat(refused.exit()).as(refused.toString()).isEqualTo(3);
    assertThat(refused.out())
        .contains("[FAIL] events-complete", "1 of 3 row(s)", raw + ":" + rows.get(2), "REFUSED");
    assertThat(phase(table)).isEqualTo("capturing");

    Fixtures.publish(kafka, topic, raw, List.of(rows.get(2), rows.get(0))); // plus a duplicate
    Cli.Result shadow =
        cli(config, "shadow", "--table", table, "--group", GROUP, "--settle", "0s", "--json");
    assertThat(shadow.exit()).as(shadow.toString()).isZero();
    assertThat(shadow.json().get("applied").asBoolean()).isTrue();
    assertThat(shadow.json().at("/gates/0/figures/duplicated").asInt()).isEqualTo(1);
    assertThat(phase(table)).isEqualTo("shadow");

    // The poller handles all three; the shadow ledger misses one: dual must refuse.
    Fixtures.pollerHandles(db, table, rows);
    Fixtures.ledger(db, GROUP, raw, rows.subList(0, 2));
    Cli.Result dualRefused = cli(config, "dual", "--table", table, "--settle", "0s", "--json");
    assertThat(dualRefused.exit()).as(dualRefused.toString()).isEqualTo(3);
    JsonNode ledgerGate = gate(dualRefused.json(), "ledger-matches");
    assertThat(ledgerGate.get("passed").asBoolean()).isFalse();
    assertThat(ledgerGate.at("/figures/missingInLedger").asInt()).isEqualTo(1);
    assertThat(ledgerGate.at("/figures/missingInLedgerKeys/0").asText())
        .isEqualTo(raw + ":" + rows.get(2));

    Fixtures.ledger(db, GROUP, raw, rows.subList(2, 3));
    Cli.Result dual = cli(config, "dual", "--table", table, "--settle", "0s");
    assertThat(dual.exit()).as(dual.toString()).isZero();
    assertThat(dual.out()).contains("[PASS] latency", "now in phase dual");

    // In the window the poller still claimed rows: cutover refuses; forced with a reason.
    List<Long> late = Fixtures.insert(db, table, 1);
    Fixtures.publish(kafka, topic, raw, late);
    Fixtures.consumerHandles(db, GROUP, table, raw, late);
    Cli.Result cutRefused = cli(config, "cutover", "--table", table, "--settle", "0s", "--json");
    assertThat(cutRefused.exit()).isEqualTo(3);
    assertThat(gate(cutRefused.json(), "no-poller-claims").at("/figures/pollerHandled").asInt())
        .isEqualTo(3);
    assertThat(gate(cutRefused.json(), "backlog-empty").get("passed").asBoolean()).isTrue();
    Cli.Result forced =
        cli(
            config,
            "cutover",
            "--table",
            table,
            "--settle",
            "0s",
            "--force",
            "--reason",
            "poller stopped at 20:00, claims before that are expected",
            "--actor",
            "alice");
    assertThat(forced.exit()).as(forced.toString()).isZero();
    assertThat(forced.out()).contains("FORCED to cutover");
    assertThat(
            Fixtures.text(
                db,
                "SELECT actor || '|' || reason || '|' || (gate_results @> '[{\"name\":"
                    + "\"no-poller-claims\",\"passed\":false}]')::text FROM unpoll.migration_log"
                    + " WHERE table_name = '"
                    + raw
                    + "' AND to_phase = 'cutover'"))
        .isEqualTo("alice|poller stopped at 20:00, claims before that are expected|true");

    Cli.Result early = cli(config, "retire", "--table", table, "--settle", "0s", "--hold", "1h");
    assertThat(early.exit()).isEqualTo(3);
    assertThat(early.out()).contains("[FAIL] cutover-held");
    Cli.Result retire = cli(config, "retire", "--table", table, "--settle", "0s", "--hold", "0s");
    assertThat(retire.exit()).as(retire.toString()).isZero();
    assertThat(phase(table)).isEqualTo("retired");

    Cli.Result status = cli(config, "status", "--json");
    assertThat(status.exit()).as(status.toString()).isZero();
    JsonNode st = status.json();
    assertThat(st.at("/slot/name").asText()).isEqualTo("slot_" + table);
    assertThat(st.at("/slot/exists").asBoolean()).isTrue();
    assertThat(st.at("/slot/retainedWalBytes").isNumber()).isTrue();
    JsonNode row = null;
    for (JsonNode candidate : st.get("tables")) {
      if (candidate.get("table").asText().equals(raw)) {
        row = candidate;
      }
    }
    assertThat(row).as(st.toString()).isNotNull();
    assertThat(row.get("phase").asText()).isEqualTo("retired");
    assertThat(row.get("lastEventTime").isTextual()).isTrue();

    Cli.Result history = cli(config, "status", "--table", table);
    assertThat(history.exit()).as(history.toString()).isZero();
    assertThat(history.out())
        .contains("log of " + raw + ":", "analyzed → capturing", "retired")
        .contains(
            "dual → cutover  by alice  FORCED past [no-poller-claims]  reason: poller stopped");
    JsonNode log = cli(config, "status", "--table", table, "--json").json().get("log");
    assertThat(log).hasSize(5);
    assertThat(log.get(3).get("to").asText()).isEqualTo("cutover");
    assertThat(log.get(3).get("actor").asText()).isEqualTo("alice");

    // Rollback from every phase, one step at a time, back to where we started.
    for (String expected : List.of("cutover", "dual", "shadow", "capturing", "analyzed")) {
      Cli.Result back = cli(config, "rollback", "--table", table, "--reason", "drill");
      assertThat(back.exit()).as(back.toString()).isZero();
      assertThat(phase(table)).isEqualTo(expected);
    }
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pub_"
                    + table
                    + "' AND tablename = '"
                    + table
                    + "'"))
        .isZero();
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'slot_" + table + "'"))
        .isZero();
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM unpoll.migration_log WHERE table_name = '" + raw + "'"))
        .isEqualTo(10);
    Cli.Result nothing = cli(config, "rollback", "--table", table);
    assertThat(nothing.exit()).isEqualTo(3);
    assertThat(nothing.err()).contains("nothing to roll back");
  }

  @Test
  void aMissingEventBlocksDual() throws Exception {
    String table = "dual_blocked";
    String raw = "public." + table;
    String topic = kafka.createUniqueTopic("blocked", 1);
    Fixtures.integrationTable(db, table);
    Path config = planned(table, topic);
    assertThat(cli(config, "capture", "--table", table, "--no-create-slot").exit()).isZero();
    List<Long> rows = Fixtures.insert(db, table, 2);
    Fixtures.publish(kafka, topic, raw, rows);
    assertThat(cli(config, "shadow", "--table", table, "--group", GROUP, "--settle", "0s").exit())
        .isZero();
    Fixtures.pollerHandles(db, table, rows);
    Fixtures.ledger(db, GROUP, raw, rows);
    List<Long> unseen = Fixtures.insert(db, table, 1); // the relay never publishes it
    Fixtures.pollerHandles(db, table, unseen);
    Fixtures.ledger(db, GROUP, raw, unseen);

    Cli.Result r = cli(config, "dual", "--table", table, "--settle", "0s", "--json");

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode events = gate(r.json(), "events-complete");
    assertThat(events.get("passed").asBoolean()).isFalse();
    assertThat(events.at("/figures/missing").asInt()).isEqualTo(1);
    assertThat(events.at("/figures/missingKeys/0").asText()).isEqualTo(raw + ":" + unseen.get(0));
    assertThat(gate(r.json(), "ledger-matches").get("passed").asBoolean()).isTrue();
    assertThat(phase(table)).isEqualTo("shadow");
  }

  /**
   * Captures {@code table}, writes {@code n} rows with their events, records them in the shadow
   * ledger and moves to dual, each gate passing; returns the rows' ids.
   */
  private List<Long> captureShadowAndDual(Path config, String table, String topic, int n)
      throws Exception {
    String raw = "public." + table;
    assertThat(cli(config, "capture", "--table", table, "--no-create-slot").exit()).isZero();
    List<Long> rows = Fixtures.insert(db, table, n);
    Fixtures.publish(kafka, topic, raw, rows);
    assertThat(cli(config, "shadow", "--table", table, "--group", GROUP, "--settle", "0s").exit())
        .isZero();
    Fixtures.ledger(db, GROUP, raw, rows);
    Cli.Result dual = cli(config, "dual", "--table", table, "--settle", "0s");
    assertThat(dual.exit()).as(dual.toString()).isZero();
    return rows;
  }

  @Test
  void cutoverRefusesWhileARowIsHeldInProgressAndNamesIt() throws Exception {
    String table = "held_queue";
    String raw = "public." + table;
    String topic = kafka.createUniqueTopic("held", 1);
    Fixtures.integrationTable(db, table);
    List<Long> old = Fixtures.insert(db, table, 2); // before capture: outside every window
    Fixtures.pollerHandles(db, table, old.subList(0, 1));
    Path config = planned(table, topic); // learns pending NEW and done DONE from the data
    Fixtures.pollerHandles(db, table, old.subList(1, 2));
    List<Long> rows = captureShadowAndDual(config, table, topic, 3);
    // the consumer claimed two rows; the poller took the third, set it PROCESSING and crashed
    Fixtures.consumerHandles(db, GROUP, table, raw, rows.subList(0, 2));
    Fixtures.sql(db, "UPDATE " + table + " SET status = 'PROCESSING' WHERE id = " + rows.get(2));

    Cli.Result r = cli(config, "cutover", "--table", table, "--settle", "0s", "--json");

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode backlog = gate(r.json(), "backlog-empty");
    assertThat(backlog.get("passed").asBoolean()).isFalse();
    assertThat(backlog.at("/figures/backlog").asInt()).isEqualTo(1);
    assertThat(backlog.at("/figures/backlogKeys/0").asText()).isEqualTo(raw + ":" + rows.get(2));
    assertThat(backlog.get("detail").asText()).contains("not in a done state", "in progress");
    assertThat(gate(r.json(), "no-poller-claims").get("passed").asBoolean()).isTrue();
    assertThat(phase(table)).isEqualTo("dual");
  }

  @Test
  void cutoverRefusesWhileARowFromBeforeTheWindowIsStillInProgress() throws Exception {
    String table = "stale_held_queue";
    String raw = "public." + table;
    String topic = kafka.createUniqueTopic("stale-held", 1);
    Fixtures.integrationTable(db, table);
    List<Long> old = Fixtures.insert(db, table, 3); // before capture: outside every window
    Fixtures.pollerHandles(db, table, old.subList(0, 1));
    // a poller took this row before the migration started and has not finished it yet
    Fixtures.sql(db, "UPDATE " + table + " SET status = 'PROCESSING' WHERE id = " + old.get(1));
    Path config = planned(table, topic); // learns NEW, DONE and in progress PROCESSING
    Fixtures.pollerHandles(db, table, old.subList(2, 3));
    List<Long> rows = captureShadowAndDual(config, table, topic, 2);
    Fixtures.consumerHandles(db, GROUP, table, raw, rows);

    Cli.Result r = cli(config, "cutover", "--table", table, "--settle", "0s", "--json");

    // Once the poller is stopped nobody finishes that row, however old it is.
    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode backlog = gate(r.json(), "backlog-empty");
    assertThat(backlog.get("passed").asBoolean()).as(backlog.toString()).isFalse();
    assertThat(backlog.at("/figures/backlog").asInt()).isEqualTo(1);
    assertThat(backlog.at("/figures/backlogKeys/0").asText()).isEqualTo(raw + ":" + old.get(1));
    assertThat(phase(table)).isEqualTo("dual");
  }

  @Test
  void cutoverRefusesWhenTheBacklogCannotBeMeasured() throws Exception {
    String table = "unmeasured_queue";
    String topic = kafka.createUniqueTopic("unmeasured", 1);
    Fixtures.integrationTable(db, table);
    // a status column, but no pending or done values: nobody can tell what is still to do
    Path config =
        configured(
            table,
            "tables:\n  - table: public."
                + table
                + "\n    topic: "
                + topic
                + "\n    key: [id]\n    status:\n      column: status\n");
    assertThat(cli(config, "capture", "--table", table, "--no-create-slot").exit()).isZero();
    for (String phase : List.of("shadow", "dual")) {
      Cli.Result forced =
          cli(config, phase, "--table", table, "--group", GROUP, "--force", "--reason", "test");
      assertThat(forced.exit()).as(forced.toString()).isZero();
    }

    Cli.Result r = cli(config, "cutover", "--table", table, "--settle", "0s", "--json");

    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode backlog = gate(r.json(), "backlog-empty");
    assertThat(backlog.get("passed").asBoolean()).as(backlog.toString()).isFalse();
    assertThat(backlog.at("/figures/backlog").asInt()).isEqualTo(-1);
    assertThat(backlog.get("detail").asText()).contains("not measurable", "status.pending");
    assertThat(phase(table)).isEqualTo("dual");
  }

  @Test
  void shadowRefusesWhileTheRelayHasNotCreatedTheTopic() throws Exception {
    String table = "no_topic_yet";
    Fixtures.integrationTable(db, table);
    Path config = planned(table, "never.created." + table);
    assertThat(cli(config, "capture", "--table", table, "--no-create-slot").exit()).isZero();
    Cli.Result r =
        cli(config, "shadow", "--table", table, "--group", GROUP, "--settle", "0s", "--json");
    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    JsonNode events = gate(r.json(), "events-complete");
    assertThat(events.at("/figures/topicFound").asBoolean()).isFalse();
    assertThat(events.get("detail").asText())
        .contains("does not exist (yet)", "replication slot slot_" + table + " is missing");
    assertThat(events.at("/figures/slotState").asText()).isEqualTo("missing");
  }

  @Test
  void phasesCannotBeSkippedEvenWithForce() throws Exception {
    String table = "no_skipping";
    Fixtures.integrationTable(db, table);
    Path config = planned(table, kafka.createUniqueTopic("skip", 1));
    Cli.Result r =
        cli(config, "cutover", "--table", table, "--group", GROUP, "--force", "--reason", "hurry");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("is in phase analyzed", "needs phase dual");
    assertThat(phase(table)).isNull();
  }

  @Test
  void captureRefusesATableWhoseUpdatesWouldBreakOncePublished() throws Exception {
    String table = "no_identity";
    Fixtures.sql(
        db,
        "CREATE TABLE " + table + " (id int, status text, created_at timestamptz DEFAULT now())");
    Path config = dir.resolve("u.yaml");
    Files.writeString(config, "source:\n  slot: slot_noid\n  publication: pub_noid\n");
    Cli.Result r =
        Cli.run(
            Map.of("PGPASSWORD", db.password()),
            "capture",
            "--table",
            table,
            "--topic",
            "t",
            "--config",
            config.toString(),
            "--db",
            db.jdbcUrl(),
            "--user",
            db.user());
    assertThat(r.exit()).as(r.toString()).isEqualTo(3);
    assertThat(r.out()).contains("[FAIL] replica-identity", "REPLICA IDENTITY FULL");
    assertThat(
            Fixtures.number(db, "SELECT count(*) FROM pg_publication WHERE pubname = 'pub_noid'"))
        .isZero();
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'slot_noid'"))
        .isZero();
  }

  @Test
  void migrationsCanBeDrivenWithoutTheCommandLine() {
    String table = "programmatic";
    Fixtures.integrationTable(db, table);
    Migrations m =
        Migrations.builder()
            .jdbcUrl(db.jdbcUrl())
            .user(db.user())
            .password(db.password())
            .kafkaBootstrap(kafka.bootstrapServers())
            .slot("slot_programmatic")
            .publication("pub_programmatic")
            .environment(Map.of())
            .build();
    TableName t = TableName.parse(table);
    String topic = kafka.createUniqueTopic("prog", 1);
    // Rows before capture show the status values the proposed mapping is built from.
    Fixtures.pollerHandles(db, table, Fixtures.insert(db, table, 2).subList(0, 1));
    TransitionOptions noSlot =
        TransitionOptions.builder()
            .actor("demo")
            .settle(java.time.Duration.ZERO)
            .topic(topic)
            .createSlot(false)
            .build();
    Transition capture = m.capture(t, noSlot);
    assertThat(capture.applied()).isTrue();
    assertThat(capture.notes())
        .anyMatch(n -> n.contains("created by the relay on its first start"));
    assertThat(m.phase(t)).isEqualTo(Phase.CAPTURING);
    List<Long> rows = Fixtures.insert(db, table, 2);
    Fixtures.publish(kafka, topic, "public." + table, rows.subList(0, 1));
    Fixtures.pollerHandles(db, table, rows);
    Reconciliation r = m.verify(t, noSlot);
    assertThat(r.rows()).isEqualTo(2);
    assertThat(r.missingEvents()).isEqualTo(1);
    assertThat(r.pollerHandled()).isEqualTo(2);
    assertThat(r.pollerLatency().count()).isEqualTo(2);
    assertThat(r.ok()).isFalse();
    assertThat(r.failures()).singleElement().asString().contains("1 row(s) have no event");
    Transition back = m.rollback(t, noSlot);
    assertThat(back.to()).isEqualTo(Phase.ANALYZED);
    assertThat(m.phase(t)).isEqualTo(Phase.ANALYZED);
  }

  @Test
  void quotedMixedCaseNamesGoThroughCaptureShadowAndRollback() throws Exception {
    String table = "\"Sales Dept\".\"Order \"\"Queue\"\"\"";
    Fixtures.sql(db, "CREATE SCHEMA \"Sales Dept\"");
    Fixtures.integrationTable(db, table);
    String topic = kafka.createUniqueTopic("quoted", 1);
    Path config = dir.resolve("q.yaml");
    Files.writeString(config, "source:\n  slot: slot_quoted\n  publication: pub_quoted\n");
    Map<String, String> env = Map.of("PGPASSWORD", db.password());
    String[] conn = {
      "--config",
      config.toString(),
      "--db",
      db.jdbcUrl(),
      "--user",
      db.user(),
      "--kafka",
      kafka.bootstrapServers()
    };
    Cli.Result plan =
        Cli.run(env, concat(new String[] {"plan", "--table", table, "--topic", topic}, conn));
    assertThat(plan.exit()).as(plan.toString()).isZero();
    Cli.Result capture = Cli.run(env, concat(new String[] {"capture", "--table", table}, conn));
    assertThat(capture.exit()).as(capture.toString()).isZero();
    assertThat(
            Fixtures.number(
                db,
                "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pub_quoted'"
                    + " AND schemaname = 'Sales Dept' AND tablename = 'Order \"Queue\"'"))
        .isEqualTo(1);
    List<Long> rows = Fixtures.insert(db, table, 2);
    Fixtures.publish(kafka, topic, "Sales Dept.Order \"Queue\"", rows);
    Cli.Result shadow =
        Cli.run(
            env,
            concat(
                new String[] {"shadow", "--table", table, "--group", GROUP, "--settle", "0s"},
                conn));
    assertThat(shadow.exit()).as(shadow.toString()).isZero();
    assertThat(shadow.out()).contains("all 2 row(s) in the window have their event");
    for (int i = 0; i < 2; i++) {
      assertThat(Cli.run(env, concat(new String[] {"rollback", "--table", table}, conn)).exit())
          .isZero();
    }
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pub_quoted'"))
        .isEqualTo(1); // only the heartbeat table is left
    assertThat(
            Fixtures.number(
                db, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'slot_quoted'"))
        .isZero();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  private static JsonNode gate(JsonNode transition, String name) {
    for (JsonNode g : transition.get("gates")) {
      if (g.get("name").asText().equals(name)) {
        return g;
      }
    }
    throw new AssertionError("no gate " + name + " in " + transition);
  }
}
